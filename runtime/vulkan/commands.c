/* Command recording: one command buffer with its fence, a descriptor pool
 * sized for the dispatches it will hold, and optional timestamp queries.
 * Barriers are explicit: the recorder never adds one by itself, so a plan's
 * barriers are exactly the ones its dependencies need.
 * Every wait is bounded by the context's timeout; a timeout or a lost device
 * comes back as its own status. Nothing here waits without a bound: the
 * timestamps are read without VK_QUERY_RESULT_WAIT_BIT (after the fence),
 * and vkvae_queue_drain replaces vkDeviceWaitIdle, which has no timeout.
 * Objects the GPU may still be using after a timeout are left alive rather
 * than destroyed under it.
 */
#include <string.h>

#include "vulkan/context.h"

vkvae_status vkvae_commands_begin(vkvae_context *ctx, uint32_t max_dispatches,
                                  uint32_t timestamps, vkvae_commands *out, vkvae_error *err)
{
    memset(out, 0, sizeof *out);
    VkCommandBufferAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->command_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkResult r = ctx->vk.vkAllocateCommandBuffers(ctx->device, &alloc, &out->cb);
    VkFenceCreateInfo fence = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (r == VK_SUCCESS)
        r = ctx->vk.vkCreateFence(ctx->device, &fence, NULL, &out->fence);
    if (r == VK_SUCCESS && max_dispatches) {
        vkvae_status s = vkvae_descriptor_pool_create(ctx, max_dispatches, VKVAE_KERNEL_MAX_BINDINGS, 0,
                                                      &out->pool, err);
        if (s) {
            vkvae_commands_destroy(ctx, out);
            return s;
        }
        out->sets_left = max_dispatches;
    }
    if (ctx->devices[ctx->device_index].timestamp_period_ns == 0)
        timestamps = 0; /* the queue has none: vkvae_commands_timestamp says so */
    if (r == VK_SUCCESS && timestamps) {
        VkQueryPoolCreateInfo q = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = timestamps,
        };
        r = ctx->vk.vkCreateQueryPool(ctx->device, &q, NULL, &out->timestamps);
        out->timestamp_count = timestamps;
    }
    VkCommandBufferBeginInfo begin = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    if (r == VK_SUCCESS)
        r = ctx->vk.vkBeginCommandBuffer(out->cb, &begin);
    if (r == VK_SUCCESS && timestamps)
        ctx->vk.vkCmdResetQueryPool(out->cb, out->timestamps, 0, timestamps);
    if (r != VK_SUCCESS) {
        vkvae_commands_destroy(ctx, out);
        return vkvae_vk_fail(err, r, "beginning a command buffer", __FILE__, __LINE__);
    }
    return VKVAE_OK;
}

vkvae_status vkvae_commands_dispatch(vkvae_context *ctx, vkvae_commands *c, const vkvae_kernel *k,
                                     const vkvae_binding *bindings, uint32_t n_bindings,
                                     const void *push, uint32_t push_bytes, uint32_t gx,
                                     uint32_t gy, uint32_t gz, vkvae_error *err)
{
    if (n_bindings != k->binding_count || n_bindings > VKVAE_KERNEL_MAX_BINDINGS)
        return vkvae_fail(err, VKVAE_INTERNAL, "dispatch binds %u buffers, the kernel has %u",
                          n_bindings, k->binding_count);
    if (push_bytes > VKVAE_PUSH_BYTES)
        return vkvae_fail(err, VKVAE_INTERNAL, "%u bytes of push constants", push_bytes);
    if (n_bindings) {
        if (c->sets_left == 0)
            return vkvae_fail(err, VKVAE_INTERNAL, "more dispatches than the recording reserved");
        VkDescriptorSetAllocateInfo alloc = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = c->pool,
            .descriptorSetCount = 1,
            .pSetLayouts = &k->set_layout,
        };
        VkDescriptorSet set;
        VKVAE_VK_CHECK(err, ctx->vk.vkAllocateDescriptorSets(ctx->device, &alloc, &set));
        c->sets_left--;
        VkDescriptorBufferInfo infos[VKVAE_KERNEL_MAX_BINDINGS];
        VkWriteDescriptorSet writes[VKVAE_KERNEL_MAX_BINDINGS];
        for (uint32_t b = 0; b < n_bindings; b++) {
            infos[b] = (VkDescriptorBufferInfo){
                .buffer = bindings[b].buffer->buffer,
                .offset = bindings[b].offset,
                .range = bindings[b].range ? bindings[b].range : VK_WHOLE_SIZE,
            };
            writes[b] = (VkWriteDescriptorSet){
                .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                .dstSet = set,
                .dstBinding = b,
                .descriptorCount = 1,
                .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                .pBufferInfo = &infos[b],
            };
        }
        ctx->vk.vkUpdateDescriptorSets(ctx->device, n_bindings, writes, 0, NULL);
        ctx->vk.vkCmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0, 1,
                                        &set, 0, NULL);
    }
    ctx->vk.vkCmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
    if (push_bytes)
        ctx->vk.vkCmdPushConstants(c->cb, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes,
                                   push);
    ctx->vk.vkCmdDispatch(c->cb, gx, gy, gz);
    return VKVAE_OK;
}

/* One global memory barrier between two stages. */
static void memory_barrier(vkvae_context *ctx, vkvae_commands *c, VkPipelineStageFlags src_stage,
                           VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
                           VkAccessFlags dst_access)
{
    VkMemoryBarrier b = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    ctx->vk.vkCmdPipelineBarrier(c->cb, src_stage, dst_stage, 0, 1, &b, 0, NULL, 0, NULL);
}

void vkvae_commands_copy(vkvae_context *ctx, vkvae_commands *c, const vkvae_buffer *src,
                         VkDeviceSize src_off, const vkvae_buffer *dst, VkDeviceSize dst_off,
                         VkDeviceSize bytes)
{
    /* Earlier shaders' reads and writes of either range, then the copy. */
    memory_barrier(ctx, c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                   VK_PIPELINE_STAGE_TRANSFER_BIT,
                   VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = bytes};
    ctx->vk.vkCmdCopyBuffer(c->cb, src->buffer, dst->buffer, 1, &region);
    memory_barrier(ctx, c, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT);
}

void vkvae_commands_barrier(vkvae_context *ctx, vkvae_commands *c)
{
    memory_barrier(ctx, c, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
                   VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                   VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
}

uint32_t vkvae_commands_timestamp(vkvae_context *ctx, vkvae_commands *c)
{
    if (!c->timestamps || c->timestamps_used >= c->timestamp_count)
        return UINT32_MAX;
    ctx->vk.vkCmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->timestamps,
                                c->timestamps_used);
    return c->timestamps_used++;
}

vkvae_status vkvae_commands_submit(vkvae_context *ctx, vkvae_commands *c, vkvae_error *err)
{
    /* The host reads results after the wait: make shader writes visible to it. */
    VkMemoryBarrier host = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
    };
    ctx->vk.vkCmdPipelineBarrier(c->cb,
                                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &host, 0, NULL, 0, NULL);
    VKVAE_VK_CHECK(err, ctx->vk.vkEndCommandBuffer(c->cb));
    VkSubmitInfo submit = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &c->cb,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkQueueSubmit(ctx->queue, 1, &submit, c->fence));
    c->submitted = 1;
    return VKVAE_OK;
}

vkvae_status vkvae_commands_wait(vkvae_context *ctx, vkvae_commands *c, vkvae_error *err)
{
    VkResult r = ctx->vk.vkWaitForFences(ctx->device, 1, &c->fence, VK_TRUE, ctx->timeout_ns);
    if (r == VK_TIMEOUT)
        return vkvae_fail(err, VKVAE_TIMEOUT, "the GPU did not finish a submission within %.1f s",
                          (double)ctx->timeout_ns * 1e-9);
    VKVAE_VK_CHECK(err, r);
    return VKVAE_OK;
}

vkvae_status vkvae_commands_submit_wait(vkvae_context *ctx, vkvae_commands *c, vkvae_error *err)
{
    vkvae_status s = vkvae_commands_submit(ctx, c, err);
    return s ? s : vkvae_commands_wait(ctx, c, err);
}

vkvae_status vkvae_commands_timestamps_ns(vkvae_context *ctx, const vkvae_commands *c,
                                          double *ns, uint32_t n, vkvae_error *err)
{
    const vkvae_device_info *dev = &ctx->devices[ctx->device_index];
    if (!c->timestamps || n > c->timestamps_used || dev->timestamp_period_ns == 0)
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "no timestamps on this device or recording");
    uint64_t ticks[256];
    for (uint32_t i = 0; i < n; i += 256) {
        uint32_t m = n - i < 256 ? n - i : 256;
        VkResult r = ctx->vk.vkGetQueryPoolResults(ctx->device, c->timestamps, i, m, sizeof ticks,
                                                   ticks, sizeof(uint64_t), VK_QUERY_RESULT_64_BIT);
        if (r == VK_NOT_READY)
            return vkvae_fail(err, VKVAE_INTERNAL,
                              "timestamps read before their submission finished (wait for it first)");
        VKVAE_VK_CHECK(err, r);
        for (uint32_t j = 0; j < m; j++)
            ns[i + j] = (double)ticks[j] * dev->timestamp_period_ns;
    }
    return VKVAE_OK;
}

vkvae_status vkvae_queue_drain(vkvae_context *ctx, vkvae_error *err)
{
    /* An empty submission's fence signals after every earlier submission to
     * the queue has completed. */
    VkFenceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence = VK_NULL_HANDLE;
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateFence(ctx->device, &info, NULL, &fence));
    VkResult r = ctx->vk.vkQueueSubmit(ctx->queue, 0, NULL, fence);
    if (r != VK_SUCCESS) {
        ctx->vk.vkDestroyFence(ctx->device, fence, NULL);
        return vkvae_vk_fail(err, r, "vkQueueSubmit", __FILE__, __LINE__);
    }
    r = ctx->vk.vkWaitForFences(ctx->device, 1, &fence, VK_TRUE, ctx->timeout_ns);
    if (r == VK_TIMEOUT) /* the fence is still pending: it stays */
        return vkvae_fail(err, VKVAE_TIMEOUT, "the GPU did not finish its work within %.1f s",
                          (double)ctx->timeout_ns * 1e-9);
    ctx->vk.vkDestroyFence(ctx->device, fence, NULL);
    VKVAE_VK_CHECK(err, r);
    return VKVAE_OK;
}

void vkvae_commands_destroy(vkvae_context *ctx, vkvae_commands *c)
{
    /* After a timed-out wait the GPU may still run this recording: give it
     * one more timeout, then leave its objects alive rather than free them
     * under it. */
    if (c->fence && c->submitted &&
        ctx->vk.vkWaitForFences(ctx->device, 1, &c->fence, VK_TRUE, ctx->timeout_ns) == VK_TIMEOUT) {
        memset(c, 0, sizeof *c);
        return;
    }
    if (c->timestamps)
        ctx->vk.vkDestroyQueryPool(ctx->device, c->timestamps, NULL);
    if (c->pool)
        ctx->vk.vkDestroyDescriptorPool(ctx->device, c->pool, NULL);
    if (c->fence)
        ctx->vk.vkDestroyFence(ctx->device, c->fence, NULL);
    if (c->cb)
        ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->command_pool, 1, &c->cb);
    memset(c, 0, sizeof *c);
}
