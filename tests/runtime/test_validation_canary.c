/* Proves the validation check is alive: a deliberate API misuse (a buffer
 * created with no usage flags, VUID-VkBufferCreateInfo-usage-requiredbitmask)
 * must reach our messenger and be counted. If this test fails, a silent
 * validation layer would let every other test pass unchecked.
 */
#include "test_util.h"

int main(void)
{
    vkvae_context *ctx = test_context_quiet(1);
    VkBufferCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 64,
        .usage = 0, /* the misuse */
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer buffer = VK_NULL_HANDLE;
    VkResult r = ctx->vk.vkCreateBuffer(ctx->device, &info, NULL, &buffer);
    if (r == VK_SUCCESS)
        ctx->vk.vkDestroyBuffer(ctx->device, buffer, NULL);
    uint32_t counted = vkvae_validation_message_count(ctx);
    vkvae_context_destroy(ctx);
    CHECK(counted >= 1 && test_messages >= 1,
          "the misuse produced %u messages (callback saw %u); validation is not running",
          counted, test_messages);
    printf("validation canary: %u message(s) counted\n", counted);
    return test_failures ? 1 : 0;
}
