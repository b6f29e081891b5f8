/* Descriptor pools and sets, made one way for every user: the plan's sets
 * (one per step, gpu/gpu_plan.c), a recording's (commands.c) and an image
 * target's (api/image_target.c). Pools are never reset or freed set by
 * set: each is sized for all its sets up front and destroyed whole.
 */
#include "vulkan/context.h"

vkvae_status vkvae_descriptor_pool_create(vkvae_context *ctx, uint32_t sets, uint32_t buffers,
                                          uint32_t images, VkDescriptorPool *out,
                                          vkvae_error *err)
{
    VkDescriptorPoolSize sizes[2];
    uint32_t n = 0;
    if (buffers)
        sizes[n++] = (VkDescriptorPoolSize){VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sets * buffers};
    if (images)
        sizes[n++] = (VkDescriptorPoolSize){VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, sets * images};
    VkDescriptorPoolCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = sets,
        .poolSizeCount = n,
        .pPoolSizes = sizes,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateDescriptorPool(ctx->device, &info, NULL, out));
    return VKVAE_OK;
}

vkvae_status vkvae_descriptor_set_allocate(vkvae_context *ctx, VkDescriptorPool pool,
                                           VkDescriptorSetLayout layout, VkDescriptorSet *out,
                                           vkvae_error *err)
{
    VkDescriptorSetAllocateInfo alloc = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = pool,
        .descriptorSetCount = 1,
        .pSetLayouts = &layout,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkAllocateDescriptorSets(ctx->device, &alloc, out));
    return VKVAE_OK;
}
