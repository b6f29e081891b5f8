/* Kernels: a compute pipeline from SPIR-V. The descriptor-set layout, the
 * push-constant range and the workgroup size are read from the module
 * itself, so no binding is ever written down twice: a kernel declares
 * storage buffers at set 0, bindings 0..n-1, and at most VKVAE_PUSH_BYTES
 * of push constants.
 */
#include <stdio.h>
#include <string.h>

#include "vulkan/context.h"

enum {
    SPV_MAGIC = 0x07230203,
    OP_EXECUTION_MODE = 16,
    OP_DECORATE = 71,
    MODE_LOCAL_SIZE = 17,
    DECORATION_BINDING = 33,
    DECORATION_DESCRIPTOR_SET = 34,
};

typedef struct reflection {
    uint32_t binding_count;
    uint32_t local_size[3];
} reflection;

static vkvae_status reflect(const uint32_t *w, size_t words, const char *name, reflection *out,
                            vkvae_error *err)
{
    memset(out, 0, sizeof *out);
    if (words < 5 || w[0] != SPV_MAGIC)
        return vkvae_fail(err, VKVAE_INTERNAL, "kernel %s: not a SPIR-V module", name);
    for (size_t i = 5; i < words;) {
        uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
        if (count == 0 || i + count > words)
            return vkvae_fail(err, VKVAE_INTERNAL, "kernel %s: malformed SPIR-V at word %zu",
                              name, i);
        if (op == OP_DECORATE && count >= 4 && w[i + 2] == DECORATION_BINDING &&
            w[i + 3] + 1 > out->binding_count)
            out->binding_count = w[i + 3] + 1;
        if (op == OP_DECORATE && count >= 4 && w[i + 2] == DECORATION_DESCRIPTOR_SET &&
            w[i + 3] != 0)
            return vkvae_fail(err, VKVAE_INTERNAL, "kernel %s: uses descriptor set %u, not 0",
                              name, w[i + 3]);
        if (op == OP_EXECUTION_MODE && count >= 6 && w[i + 2] == MODE_LOCAL_SIZE)
            memcpy(out->local_size, &w[i + 3], sizeof out->local_size);
        i += count;
    }
    if (out->binding_count > 32)
        return vkvae_fail(err, VKVAE_INTERNAL, "kernel %s: %u bindings", name,
                          out->binding_count);
    return VKVAE_OK;
}

vkvae_status vkvae_kernel_create(vkvae_context *ctx, const uint32_t *spirv, size_t words,
                                 const void *spec, uint32_t n_spec, const char *name,
                                 vkvae_kernel *out, vkvae_error *err)
{
    VkSpecializationMapEntry entries[64];
    if (n_spec > 64)
        return vkvae_fail(err, VKVAE_INTERNAL, "kernel %s: %u specialization constants", name,
                          n_spec);
    for (uint32_t i = 0; i < n_spec; i++)
        entries[i] = (VkSpecializationMapEntry){.constantID = i, .offset = 4 * i, .size = 4};
    VkSpecializationInfo specialization = {
        .mapEntryCount = n_spec,
        .pMapEntries = entries,
        .dataSize = 4 * (size_t)n_spec,
        .pData = spec,
    };
    memset(out, 0, sizeof *out);
    reflection refl;
    vkvae_status s = reflect(spirv, words, name, &refl, err);
    if (s)
        return s;
    out->binding_count = refl.binding_count;
    memcpy(out->local_size, refl.local_size, sizeof out->local_size);

    VkDescriptorSetLayoutBinding bindings[32];
    for (uint32_t b = 0; b < refl.binding_count; b++)
        bindings[b] = (VkDescriptorSetLayoutBinding){
            .binding = b,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = refl.binding_count,
        .pBindings = bindings,
    };
    VkPushConstantRange push = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .size = VKVAE_PUSH_BYTES,
    };
    VkShaderModuleCreateInfo module_info = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = words * sizeof(uint32_t),
        .pCode = spirv,
    };
    VkResult r = ctx->vk.vkCreateShaderModule(ctx->device, &module_info, NULL, &out->module);
    if (r == VK_SUCCESS)
        r = ctx->vk.vkCreateDescriptorSetLayout(ctx->device, &set_info, NULL, &out->set_layout);
    if (r == VK_SUCCESS) {
        VkPipelineLayoutCreateInfo layout_info = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
            .setLayoutCount = 1,
            .pSetLayouts = &out->set_layout,
            .pushConstantRangeCount = 1,
            .pPushConstantRanges = &push,
        };
        r = ctx->vk.vkCreatePipelineLayout(ctx->device, &layout_info, NULL, &out->layout);
    }
    if (r == VK_SUCCESS) {
        VkComputePipelineCreateInfo info = {
            .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
            .stage = {
                .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                .module = out->module,
                .pName = "main",
                .pSpecializationInfo = spec ? &specialization : NULL,
            },
            .layout = out->layout,
        };
        r = ctx->vk.vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &info, NULL,
                                             &out->pipeline);
    }
    if (r != VK_SUCCESS) {
        vkvae_kernel_destroy(ctx, out);
        char what[160];
        snprintf(what, sizeof what, "creating the pipeline of kernel %s", name);
        return vkvae_vk_fail(err, r, what, __FILE__, __LINE__);
    }
    return VKVAE_OK;
}

void vkvae_kernel_destroy(vkvae_context *ctx, vkvae_kernel *k)
{
    if (k->pipeline)
        ctx->vk.vkDestroyPipeline(ctx->device, k->pipeline, NULL);
    if (k->layout)
        ctx->vk.vkDestroyPipelineLayout(ctx->device, k->layout, NULL);
    if (k->set_layout)
        ctx->vk.vkDestroyDescriptorSetLayout(ctx->device, k->set_layout, NULL);
    if (k->module)
        ctx->vk.vkDestroyShaderModule(ctx->device, k->module, NULL);
    memset(k, 0, sizeof *k);
}
