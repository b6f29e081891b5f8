/* Image targets: the application's storage images, written by
 * shaders/image_pack_<format>.comp from a model's decoder output. The
 * model owns one descriptor-set layout (binding 0: the mean tensor,
 * binding 1: the storage image) and a pipeline per format, made when the
 * first image of that format is; each image owns the one descriptor set
 * that binds the application's view, written once, so recording only binds.
 */
#include <stdlib.h>

#include "api/model.h"
#include "image_pack_r32f.spv.h"
#include "image_pack_rgba16f.spv.h"
#include "image_pack_rgba32f.spv.h"
#include "image_pack_rgba8.spv.h"

/* shaders/image_pack.glsl's push constants. */
typedef struct pack_push {
    int32_t x, y;
    uint32_t columns, scale, first, rows;
    uint32_t channels, height, width;
} pack_push;
_Static_assert(sizeof(pack_push) == 36, "pack_push must match image_pack.glsl");

static const struct {
    VkFormat format;
    const char *name;
    const uint32_t *spirv;
    size_t bytes;
} formats[VKVAE_PACK_COUNT] = {
    [VKVAE_PACK_RGBA8] = {VK_FORMAT_R8G8B8A8_UNORM, "R8G8B8A8_UNORM", image_pack_rgba8_spv,
                          sizeof image_pack_rgba8_spv},
    [VKVAE_PACK_RGBA16F] = {VK_FORMAT_R16G16B16A16_SFLOAT, "R16G16B16A16_SFLOAT",
                            image_pack_rgba16f_spv, sizeof image_pack_rgba16f_spv},
    [VKVAE_PACK_RGBA32F] = {VK_FORMAT_R32G32B32A32_SFLOAT, "R32G32B32A32_SFLOAT",
                            image_pack_rgba32f_spv, sizeof image_pack_rgba32f_spv},
    [VKVAE_PACK_R32F] = {VK_FORMAT_R32_SFLOAT, "R32_SFLOAT", image_pack_r32f_spv,
                         sizeof image_pack_r32f_spv},
};

vkvae_status vkvae_pack_layout_create(vkvae_model *m, vkvae_error *err)
{
    vkvae_context *ctx = m->ctx;
    VkDescriptorSetLayoutBinding bindings[2] = {
        {.binding = 0, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT},
        {.binding = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
         .descriptorCount = 1, .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT},
    };
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = 2,
        .pBindings = bindings,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateDescriptorSetLayout(ctx->device, &set_info, NULL,
                                                            &m->pack_set_layout));
    VkPushConstantRange push = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .size = sizeof(pack_push),
    };
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &m->pack_set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &push,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreatePipelineLayout(ctx->device, &layout_info, NULL,
                                                       &m->pack_layout));
    return VKVAE_OK;
}

void vkvae_pack_destroy(vkvae_model *m)
{
    vkvae_context *ctx = m->ctx;
    for (int f = 0; f < VKVAE_PACK_COUNT; f++) {
        if (m->pack[f])
            ctx->vk.vkDestroyPipeline(ctx->device, m->pack[f], NULL);
        if (m->pack_module[f])
            ctx->vk.vkDestroyShaderModule(ctx->device, m->pack_module[f], NULL);
    }
    if (m->pack_layout)
        ctx->vk.vkDestroyPipelineLayout(ctx->device, m->pack_layout, NULL);
    if (m->pack_set_layout)
        ctx->vk.vkDestroyDescriptorSetLayout(ctx->device, m->pack_set_layout, NULL);
}

static vkvae_status pipeline_for(vkvae_model *m, vkvae_pack_format f, vkvae_error *err)
{
    if (m->pack[f])
        return VKVAE_OK;
    vkvae_context *ctx = m->ctx;
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = formats[f].bytes,
        .pCode = formats[f].spirv,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateShaderModule(ctx->device, &module_info, NULL,
                                                     &m->pack_module[f]));
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = m->pack_module[f],
            .pName = "main",
        },
        .layout = m->pack_layout,
    };
    VKVAE_VK_CHECK(err, ctx->vk.vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1,
                                                         &info, NULL, &m->pack[f]));
    return VKVAE_OK;
}

vkvae_status vkvae_image_create(vkvae_model *m, const vkvae_image_desc *desc, vkvae_image **out,
                                vkvae_error *err)
{
    *out = NULL;
    if (!m->ctx)
        return vkvae_fail(err, VKVAE_UNSUPPORTED,
                          "model %s runs on the CPU backend: images need a device", m->info.name);
    if (!desc || !desc->view)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vkvae_image_create needs an image view");
    int f = 0;
    while (f < VKVAE_PACK_COUNT && formats[f].format != desc->format)
        f++;
    if (f == VKVAE_PACK_COUNT)
        return vkvae_fail(err, VKVAE_BAD_INPUT,
                          "image format %d is not one vkvae writes (R8G8B8A8_UNORM, "
                          "R16G16B16A16_SFLOAT, R32G32B32A32_SFLOAT, R32_SFLOAT)",
                          (int)desc->format);
    vkvae_context *ctx = m->ctx;
    VkFormatProperties fp;
    ctx->vki.vkGetPhysicalDeviceFormatProperties(ctx->physical, desc->format, &fp);
    if (!((fp.optimalTilingFeatures | fp.linearTilingFeatures) &
          VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT))
        return vkvae_fail(err, VKVAE_UNSUPPORTED, "device '%s' cannot use %s as a storage image",
                          ctx->props.deviceName, formats[f].name);
    vkvae_status s = pipeline_for(m, (vkvae_pack_format)f, err);
    if (s)
        return s;
    vkvae_image *img = calloc(1, sizeof *img);
    if (!img)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "out of host memory");
    img->model = m;
    img->format = (vkvae_pack_format)f;
    s = vkvae_descriptor_pool_create(ctx, 1, 1, 1, &img->pool, err);
    if (!s)
        s = vkvae_descriptor_set_allocate(ctx, img->pool, m->pack_set_layout, &img->set, err);
    if (s) {
        vkvae_image_destroy(img);
        return s;
    }
    const vkvae_tensor_desc *mean = &m->plan.tensors[m->t_mean];
    VkDescriptorBufferInfo buffer = {
        .buffer = vkvae_gpu_plan_buffer(m->gpu, mean->buffer)->buffer,
        .offset = mean->offset,
        .range = mean->elems * 4,
    };
    VkDescriptorImageInfo image = {.imageView = desc->view, .imageLayout = VK_IMAGE_LAYOUT_GENERAL};
    VkWriteDescriptorSet writes[2] = {
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = img->set, .dstBinding = 0,
         .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .pBufferInfo = &buffer},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = img->set, .dstBinding = 1,
         .descriptorCount = 1, .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
         .pImageInfo = &image},
    };
    ctx->vk.vkUpdateDescriptorSets(ctx->device, 2, writes, 0, NULL);
    *out = img;
    return VKVAE_OK;
}

void vkvae_image_destroy(vkvae_image *img)
{
    if (!img)
        return;
    vkvae_context *ctx = img->model->ctx;
    if (img->pool) /* frees the set */
        ctx->vk.vkDestroyDescriptorPool(ctx->device, img->pool, NULL);
    free(img);
}

void vkvae_pack_record(vkvae_model *m, VkCommandBuffer cb, const vkvae_image *img,
                       const vkvae_output *out, uint32_t first, uint32_t rows)
{
    vkvae_context *ctx = m->ctx;
    uint32_t scale = out->scale ? out->scale : 1;
    pack_push push = {
        .x = (int32_t)out->x,
        .y = (int32_t)out->y,
        .columns = out->columns,
        .scale = scale,
        .first = first,
        .rows = rows,
        .channels = m->info.channels,
        .height = m->info.height,
        .width = m->info.width,
    };
    ctx->vk.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, m->pack[img->format]);
    ctx->vk.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, m->pack_layout, 0, 1,
                                    &img->set, 0, NULL);
    ctx->vk.vkCmdPushConstants(cb, m->pack_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push,
                               &push);
    ctx->vk.vkCmdDispatch(cb, (m->info.width * scale + 7) / 8, (m->info.height * scale + 7) / 8,
                          rows);
}
