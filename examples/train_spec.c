/* Trains a model written as a string for one epoch on Fashion-MNIST, on the
 * best Vulkan device, and writes 64 samples of it as a PNG.
 *   cc train_spec.c $(pkg-config --cflags --libs vkvae) -o train_spec
 *   ./train_spec [DATA_DIR] [samples.png]
 */
#include <stdio.h>
#include <stdlib.h>

#include <vkvae/vkvae.h>

static const char spec[] = "model small_vae\n"
                           "input 1x28x28 range 0..1 likelihood bernoulli\n"
                           "latent 8 gaussian\n"
                           "encoder\n  flatten\n  dense 256 relu\n"
                           "decoder\n  dense 256 relu\n  dense 784\n  reshape 1x28x28\n"
                           "objective elbo\n"
                           "train adam lr 1e-3 batch 128 seed 1\n";

static int progress(void *user, uint32_t done, uint32_t steps, const vkvae_loss *so_far)
{
    (void)user;
    fprintf(stderr, "\rstep %u/%u  loss %.1f ", done, steps, so_far->total);
    return 0; /* non-zero would stop the epoch here */
}

int main(int argc, char **argv)
{
    const char *data_dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    const char *out = argc > 2 ? argv[2] : "samples.png";
    vkvae_error err = {0};
    vkvae_dataset *data = NULL;
    vkvae_context *ctx = NULL;
    vkvae_model *model = NULL;
    vkvae_loss train, test;
    float images[64 * 784];
    int failed = vkvae_dataset_load(&(vkvae_dataset_desc){.path = data_dir}, &data, &err) ||
                 vkvae_context_create(&(vkvae_context_desc){0}, &ctx, &err);
    if (!failed) {
        vkvae_data train_set = vkvae_dataset_split(data, 0);
        vkvae_data test_set = vkvae_dataset_split(data, 1);
        failed = vkvae_model_create(&(vkvae_model_desc){.context = ctx, .spec = spec,
                                                        .data_rows = train_set.count},
                                    &model, &err) ||
                 vkvae_model_set_data(model, &train_set, &err) ||
                 vkvae_model_train_epoch(model, &(vkvae_epoch_desc){.progress = progress},
                                         &train, &err) ||
                 vkvae_model_evaluate(model, &test_set, &test, &err) ||
                 vkvae_model_sample(model, 1, 0, 64, images, &err) ||
                 vkvae_write_png_grid(out, images, 64, 1, 28, 28, 8, &err);
    }
    if (!failed)
        printf("\ntrain %.2f, test %.2f nats/image; wrote %s\n", train.total, test.total, out);
    else
        fprintf(stderr, "\ntrain_spec: %s\n", err.message);
    int messages = ctx && vkvae_validation_message_count(ctx) > 0;
    vkvae_model_destroy(model);
    vkvae_context_destroy(ctx);
    vkvae_dataset_destroy(data);
    return failed || messages;
}
