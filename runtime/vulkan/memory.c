/* Buffers: storage buffers in device-local memory. On unified-memory devices
 * (iGPUs, lavapipe) that memory is also host-visible and coherent, so
 * buffers stay mapped and upload/download are plain copies; elsewhere a
 * temporary staging buffer and a transfer on the compute queue move data.
 * One allocation per buffer: plans have few, large buffers.
 */
#include <string.h>

#include "vulkan/context.h"

static int find_memory_type(const VkPhysicalDeviceMemoryProperties *m, uint32_t allowed,
                            VkMemoryPropertyFlags want)
{
    for (uint32_t t = 0; t < m->memoryTypeCount; t++)
        if ((allowed & (1u << t)) && (m->memoryTypes[t].propertyFlags & want) == want)
            return (int)t;
    return -1;
}

static vkvae_status buffer_create(vkvae_context *ctx, VkDeviceSize size, int staging,
                                  vkvae_buffer *out, vkvae_error *err)
{
    memset(out, 0, sizeof *out);
    /* Whole words: shaders read byte data (u8 images) as uint words. */
    size = size ? (size + 3) & ~(VkDeviceSize)3 : 4;
    const vkvae_device_info *dev = &ctx->devices[ctx->device_index];
    if (!staging && size > dev->max_storage_buffer_range)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY,
                          "a buffer of %llu bytes exceeds the device's maxStorageBufferRange "
                          "(%llu bytes)",
                          (unsigned long long)size, (unsigned long long)dev->max_storage_buffer_range);
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = staging ? VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT
                         : VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                               VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateBuffer(ctx->device, &info, NULL, &out->buffer));
    out->size = size;

    VkMemoryRequirements req;
    ctx->vk.vkGetBufferMemoryRequirements(ctx->device, out->buffer, &req);
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type;
    if (staging)
        type = find_memory_type(&ctx->mem_props, req.memoryTypeBits,
                                host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    else if (dev->unified_memory)
        type = find_memory_type(&ctx->mem_props, req.memoryTypeBits,
                                host | VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    else
        type = find_memory_type(&ctx->mem_props, req.memoryTypeBits,
                                VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (type < 0)
        type = find_memory_type(&ctx->mem_props, req.memoryTypeBits, staging ? host : 0);
    if (type < 0) {
        vkvae_buffer_destroy(ctx, out);
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "no memory type fits a %s buffer",
                          staging ? "staging" : "storage");
    }
    VkMemoryAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = (uint32_t)type,
    };
    VkResult r = ctx->vk.vkAllocateMemory(ctx->device, &alloc, NULL, &out->memory);
    if (r == VK_SUCCESS)
        r = ctx->vk.vkBindBufferMemory(ctx->device, out->buffer, out->memory, 0);
    /* A storage buffer is mapped only where the device is described as
     * unified (VKVAE_LIMITS=discrete describes lavapipe otherwise). */
    if (r == VK_SUCCESS && (staging || dev->unified_memory) &&
        (ctx->mem_props.memoryTypes[type].propertyFlags & host) == host)
        r = ctx->vk.vkMapMemory(ctx->device, out->memory, 0, VK_WHOLE_SIZE, 0, &out->mapped);
    if (r != VK_SUCCESS) {
        vkvae_buffer_destroy(ctx, out);
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return vkvae_fail(err, VKVAE_OUT_OF_MEMORY,
                              "out of device memory allocating a buffer of %llu bytes (%s)",
                              (unsigned long long)size, vkvae_vk_result_name(r));
        return vkvae_vk_fail(err, r, "allocating buffer memory", __FILE__, __LINE__);
    }
    return VKVAE_OK;
}

vkvae_status vkvae_buffer_create(vkvae_context *ctx, VkDeviceSize size, vkvae_buffer *out,
                                 vkvae_error *err)
{
    return buffer_create(ctx, size, 0, out, err);
}

void vkvae_buffer_destroy(vkvae_context *ctx, vkvae_buffer *buf)
{
    if (buf->buffer)
        ctx->vk.vkDestroyBuffer(ctx->device, buf->buffer, NULL);
    if (buf->memory)
        ctx->vk.vkFreeMemory(ctx->device, buf->memory, NULL); /* unmaps implicitly */
    memset(buf, 0, sizeof *buf);
}

static vkvae_status check_range(const vkvae_buffer *buf, VkDeviceSize offset, VkDeviceSize bytes,
                                vkvae_error *err)
{
    if (offset > buf->size || bytes > buf->size - offset)
        return vkvae_fail(err, VKVAE_INTERNAL,
                          "buffer copy of %llu bytes at offset %llu exceeds its %llu bytes",
                          (unsigned long long)bytes, (unsigned long long)offset,
                          (unsigned long long)buf->size);
    return VKVAE_OK;
}

vkvae_status vkvae_staging_create(vkvae_context *ctx, VkDeviceSize size, vkvae_buffer *out,
                                  vkvae_error *err)
{
    return buffer_create(ctx, size, 1, out, err);
}

/* Copies between a staging buffer and buf on the queue, and waits. */
static vkvae_status staged_copy(vkvae_context *ctx, const vkvae_buffer *src, VkDeviceSize src_off,
                                const vkvae_buffer *dst, VkDeviceSize dst_off, VkDeviceSize bytes,
                                vkvae_error *err)
{
    vkvae_commands c;
    vkvae_status s = vkvae_commands_begin(ctx, 0, 0, &c, err);
    if (s)
        return s;
    vkvae_commands_copy(ctx, &c, src, src_off, dst, dst_off, bytes);
    s = vkvae_commands_submit_wait(ctx, &c, err);
    vkvae_commands_destroy(ctx, &c);
    return s;
}

vkvae_status vkvae_buffer_upload(vkvae_context *ctx, vkvae_buffer *buf, VkDeviceSize offset,
                                 const void *src, VkDeviceSize bytes, vkvae_error *err)
{
    vkvae_status s = check_range(buf, offset, bytes, err);
    if (s || bytes == 0)
        return s;
    if (buf->mapped) {
        memcpy((char *)buf->mapped + offset, src, bytes);
        return VKVAE_OK;
    }
    vkvae_buffer staging;
    s = buffer_create(ctx, bytes, 1, &staging, err);
    if (s)
        return s;
    memcpy(staging.mapped, src, bytes);
    s = staged_copy(ctx, &staging, 0, buf, offset, bytes, err);
    vkvae_buffer_destroy(ctx, &staging);
    return s;
}

vkvae_status vkvae_buffer_download(vkvae_context *ctx, const vkvae_buffer *buf,
                                   VkDeviceSize offset, void *dst, VkDeviceSize bytes,
                                   vkvae_error *err)
{
    vkvae_status s = check_range(buf, offset, bytes, err);
    if (s || bytes == 0)
        return s;
    if (buf->mapped) {
        memcpy(dst, (const char *)buf->mapped + offset, bytes);
        return VKVAE_OK;
    }
    vkvae_buffer staging;
    s = buffer_create(ctx, bytes, 1, &staging, err);
    if (s)
        return s;
    s = staged_copy(ctx, buf, offset, &staging, 0, bytes, err);
    if (!s)
        memcpy(dst, staging.mapped, bytes);
    vkvae_buffer_destroy(ctx, &staging);
    return s;
}

vkvae_status vkvae_buffer_fill(vkvae_context *ctx, vkvae_buffer *buf, uint32_t word,
                               vkvae_error *err)
{
    vkvae_commands c;
    vkvae_status s = vkvae_commands_begin(ctx, 0, 0, &c, err);
    if (s)
        return s;
    VkMemoryBarrier before = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    ctx->vk.vkCmdPipelineBarrier(c.cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                                 VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
    ctx->vk.vkCmdFillBuffer(c.cb, buf->buffer, 0, VK_WHOLE_SIZE, word);
    VkMemoryBarrier after = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_HOST_READ_BIT,
    };
    ctx->vk.vkCmdPipelineBarrier(c.cb, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_HOST_BIT,
                                 0, 1, &after, 0, NULL, 0, NULL);
    s = vkvae_commands_submit_wait(ctx, &c, err);
    vkvae_commands_destroy(ctx, &c);
    return s;
}
