/* A program built outside the tree against an installed vkvae, the way an
 * application is: `cc app.c $(pkg-config --cflags --libs vkvae)`. It lists
 * the Vulkan devices, then decodes one image from a built-in model on a
 * device vkvae creates, and checks the pixels are probabilities. Exit 0
 * only when all of that worked without a validation message.
 */
#include <stdio.h>
#include <stdlib.h>

#include <vkvae/vkvae.h>

int main(void)
{
    vkvae_error err = {0};
    vkvae_device_info *devices = NULL;
    uint32_t count = 0;
    if (vkvae_devices_query(&devices, &count, &err)) {
        fprintf(stderr, "app: %s\n", err.message);
        return 1;
    }
    for (uint32_t i = 0; i < count; i++)
        printf("device %u: %s (%s)\n", i, devices[i].name,
               vkvae_device_type_name(devices[i].type));
    free(devices);

    vkvae_context *ctx = NULL;
    vkvae_model *model = NULL;
    if (vkvae_context_create(&(vkvae_context_desc){.validation = 1}, &ctx, &err) ||
        vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = vkvae_model_name(0)},
                           &model, &err)) {
        fprintf(stderr, "app: %s\n", err.message);
        vkvae_context_destroy(ctx);
        return 1;
    }
    vkvae_model_info info = vkvae_model_query(model);
    float z[64] = {0}, image[4096];
    int ok = info.latent <= 64 && info.channels * info.height * info.width <= 4096 &&
             vkvae_model_decode(model, z, NULL, 1, image, &err) == VKVAE_OK;
    for (uint32_t i = 0; ok && i < info.channels * info.height * info.width; i++)
        ok = image[i] >= 0.0f && image[i] <= 1.0f;
    printf("%s: latent %u -> %ux%ux%u image, decode %s\n", info.name, info.latent, info.channels,
           info.height, info.width, ok ? "ok" : err.message);
    vkvae_model_destroy(model);
    unsigned messages = vkvae_validation_message_count(ctx);
    vkvae_context_destroy(ctx);
    return ok && messages == 0 ? 0 : 1;
}
