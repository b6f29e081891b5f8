/* Public models from checkpoints (suite 'runtime'): a checkpoint written
 * from a CPU session with perturbed weights opens as a vkvae_model on the
 * GPU and on the CPU, both decode what that session decodes (and not what a
 * fresh initialisation does), and the info queries describe the model.
 * Refusals: a name that disagrees with the checkpoint, a missing file, a
 * file that is not a checkpoint, an unknown name (listing the built-ins),
 * upload_latents beyond max_latents, a label out of range.
 */
#include <math.h>
#include <unistd.h>

#include "plan/models.h"
#include "session/checkpoint.h"
#include "session/session.h"
#include "test_util.h"

static vkvae_status read_cb(void *user, uint32_t tensor, float *dst, vkvae_error *err)
{
    return vkvae_session_read(user, tensor, dst, err);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        worst = isnan(d) ? INFINITY : d > worst ? d : worst;
    }
    return worst;
}

/* A model no build has: compiled from its text by vkvae_model_create. */
static const char own_spec[] = "model own_tiny\n"
                               "input 1x28x28 range 0..1 likelihood bernoulli\n"
                               "latent 3 gaussian\n"
                               "encoder\n  flatten\n  dense 24 tanh\n"
                               "decoder\n  dense 24 relu\n  dense 24 relu residual\n"
                               "  dense 784\n  reshape 1x28x28\n"
                               "objective elbo\ntrain adam batch 4\n";

int main(void)
{
    vkvae_context *ctx = test_context();
    vkvae_error err = {0};
    char path[] = "/tmp/vkvae_api_model_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);

    /* A checkpoint with weights no initialisation gives: seed 5, scaled. */
    const vkvae_plan *plan = vkvae_builtin_model("vae_mlp");
    vkvae_session *s = NULL;
    CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = plan}, &s, &err), err);
    CHECK_OK(vkvae_session_init_params(s, 5, &err), err);
    uint32_t all = vkvae_plan_find_tensor(plan, "params.all");
    size_t n_all = plan->tensors[all].elems;
    float *w = malloc(n_all * sizeof *w);
    CHECK_OK(vkvae_session_read(s, all, w, &err), err);
    for (size_t i = 0; i < n_all; i++)
        w[i] *= 1.5f;
    CHECK_OK(vkvae_session_write(s, all, w, &err), err);
    vkvae_train_state state = {.epoch = 2, .step = 10, .seed = 77};
    CHECK_OK(vkvae_checkpoint_save(path, plan, read_cb, s, &state, &err), err);

    enum { N = 3 };
    float z[N * 20], want[N * 784], got[N * 784], fresh[N * 784];
    for (int i = 0; i < N * 20; i++)
        z[i] = sinf((float)i) * 2.0f;
    CHECK_OK(vkvae_session_decode(s, z, NULL, N, want, &err), err);

    vkvae_model *gpu = NULL, *cpu = NULL, *init = NULL;
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .checkpoint = path,
                                                    .max_latents = 2},
                                &gpu, &err),
             err);
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.checkpoint = path, .name = "vae_mlp"}, &cpu,
                                &err),
             err);
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = "vae_mlp",
                                                    .init_seed = 5},
                                &init, &err),
             err);
    if (gpu && cpu && init) {
        vkvae_model_info info = vkvae_model_query(gpu);
        CHECK(strcmp(info.name, "vae_mlp") == 0 && info.latent == 20 && info.channels == 1 &&
                  info.height == 28 && info.width == 28 && info.classes == 0 &&
                  info.has_prior && info.on_gpu && info.seed == 77 && info.max_latents == 2,
              "info: %s latent %u seed %u max_latents %u", info.name, info.latent, info.seed,
              info.max_latents);
        CHECK(!vkvae_model_query(cpu).on_gpu, "the CPU model is on the CPU");
        CHECK_OK(vkvae_model_decode(gpu, z, NULL, N, got, &err), err);
        double d_gpu = max_abs_diff(got, want, N * 784);
        CHECK_OK(vkvae_model_decode(cpu, z, NULL, N, got, &err), err);
        double d_cpu = max_abs_diff(got, want, N * 784);
        CHECK_OK(vkvae_model_decode(init, z, NULL, N, fresh, &err), err);
        double d_init = max_abs_diff(fresh, want, N * 784);
        CHECK(d_gpu < 1e-4 && d_cpu < 1e-6 && d_init > 1e-2,
              "checkpoint weights: gpu %.2g, cpu %.2g, fresh init %.2g", d_gpu, d_cpu, d_init);

        vkvae_error e = {0};
        CHECK(vkvae_model_upload_latents(gpu, z, 3, &e) == VKVAE_BAD_INPUT &&
                  strstr(e.message, "max_latents"),
              "upload beyond max_latents: %s", e.message);
        e = (vkvae_error){0};
        CHECK(vkvae_model_upload_latents(cpu, z, 1, &e) == VKVAE_UNSUPPORTED,
              "upload on the CPU backend: %s", e.message);
    }
    vkvae_model_destroy(gpu);
    vkvae_model_destroy(cpu);
    vkvae_model_destroy(init);

    /* Refusals, each in one line. */
    struct {
        vkvae_model_desc desc;
        vkvae_status status;
        const char *says;
    } bad[] = {
        {{.checkpoint = path, .name = "ae_mlp"}, VKVAE_BAD_INPUT, "a checkpoint of model 'vae_mlp', not 'ae_mlp'"},
        {{.checkpoint = "/nonexistent/ckpt.safetensors"}, VKVAE_IO, "/nonexistent/ckpt.safetensors"},
        {{.name = "no_such_model"}, VKVAE_BAD_INPUT, "model 'no_such_model' is not built into this vkvae (ae_mlp"},
        {{0}, VKVAE_BAD_INPUT, "needs a checkpoint, a built-in model name or a spec"},
        {{.spec = "model m\ninput 1x28x28 range 0..1 likelihood bernoulli\nlatent 0 gaussian\n"},
         VKVAE_BAD_INPUT, "<spec>:3:8: error:"},
        {{.spec = own_spec, .name = "vae_mlp"}, VKVAE_BAD_INPUT, "the spec is of model 'own_tiny', not 'vae_mlp'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vkvae_error e = {0};
        vkvae_model *m = NULL;
        vkvae_status st = vkvae_model_create(&bad[i].desc, &m, &e);
        CHECK(st == bad[i].status && m == NULL && strstr(e.message, bad[i].says),
              "case %zu: status %s, message: %s", i, vkvae_status_name(st), e.message);
        printf("refused: %s\n", e.message);
    }
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs("not a checkpoint", f);
        fclose(f);
    }
    vkvae_error e = {0};
    vkvae_model *m = NULL;
    CHECK(vkvae_model_create(&(vkvae_model_desc){.checkpoint = path}, &m, &e) == VKVAE_BAD_INPUT,
          "garbage file: %s", e.message);
    printf("refused: %s\n", e.message);
    vkvae_model *cv = NULL;
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.name = "cvae_mlp"}, &cv, &err), err);
    if (cv) {
        uint32_t labels[2] = {3, 12};
        e = (vkvae_error){0};
        CHECK(vkvae_model_decode(cv, z, labels, 2, got, &e) == VKVAE_BAD_INPUT &&
                  strstr(e.message, "label 12 is out of range"),
              "bad label: %s", e.message);
    }
    vkvae_model_destroy(cv);

    /* A model from a spec's text, compiled now: on the device as on the
     * CPU backend, decoding the same codes to the same images. */
    vkvae_model *own_gpu = NULL, *own_cpu = NULL;
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .spec = own_spec,
                                                    .init_seed = 5}, &own_gpu, &err), err);
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.spec = own_spec, .init_seed = 5}, &own_cpu,
                                &err), err);
    if (own_gpu && own_cpu) {
        vkvae_model_info oi = vkvae_model_query(own_gpu);
        CHECK(strcmp(oi.name, "own_tiny") == 0 && oi.latent == 3 && oi.channels == 1 &&
                  oi.height == 28 && oi.width == 28,
              "own spec: %s latent %u %ux%ux%u", oi.name, oi.latent, oi.channels, oi.height,
              oi.width);
        static float oz[2 * 3] = {0.5f, -1, 2, 0, 0.25f, -0.75f};
        static float og[2 * 784], oc[2 * 784];
        CHECK_OK(vkvae_model_decode(own_gpu, oz, NULL, 2, og, &err), err);
        CHECK_OK(vkvae_model_decode(own_cpu, oz, NULL, 2, oc, &err), err);
        double worst = 0;
        for (int i = 0; i < 2 * 784; i++)
            worst = fmax(worst, fabs((double)og[i] - oc[i]));
        CHECK(worst < 1e-5, "own spec: device and CPU decodes differ by %g", worst);
        printf("own spec: decoded on the device and the CPU backend, worst difference %.1e\n",
               worst);
    }
    vkvae_model_destroy(own_gpu);
    vkvae_model_destroy(own_cpu);

    /* A prior learned from an image's shape (vunet): decode and sample on
     * images, the same on the device and the CPU backend; the plain calls
     * and recording refuse it, as the _on_images calls refuse a model
     * that reads no images. */
    vkvae_model *vu_gpu = NULL, *vu_cpu = NULL;
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx, .name = "vunet",
                                                    .init_seed = 3}, &vu_gpu, &err), err);
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.name = "vunet", .init_seed = 3}, &vu_cpu,
                                &err), err);
    if (vu_gpu && vu_cpu) {
        vkvae_model_info vi = vkvae_model_query(vu_gpu);
        CHECK(vi.on_images && vi.latent == 16, "vunet: on_images %d latent %u", vi.on_images,
              vi.latent);
        static float vz[2 * 16], shapes[2 * 784], vg[2 * 784], vc[2 * 784];
        for (int i = 0; i < 2 * 16; i++)
            vz[i] = 0.1f * (float)(i % 7) - 0.3f;
        for (int i = 0; i < 2 * 784; i++) /* two squares' outlines' worth of edges */
            shapes[i] = (i % 784) / 28 > 6 + 4 * (i / 784) && (i % 784) / 28 < 20 &&
                                (i % 28) > 8 && (i % 28) < 20 ? 1.0f : 0.0f;
        CHECK_OK(vkvae_model_decode_on_images(vu_gpu, vz, NULL, shapes, 2, vg, &err), err);
        CHECK_OK(vkvae_model_decode_on_images(vu_cpu, vz, NULL, shapes, 2, vc, &err), err);
        double worst = max_abs_diff(vg, vc, 2 * 784);
        CHECK(worst < 1e-5, "vunet: device and CPU decodes on images differ by %g", worst);
        CHECK_OK(vkvae_model_sample_on_images(vu_gpu, 9, 0, shapes, 2, vg, &err), err);
        CHECK_OK(vkvae_model_sample_on_images(vu_cpu, 9, 0, shapes, 2, vc, &err), err);
        double worst_s = max_abs_diff(vg, vc, 2 * 784);
        CHECK(worst_s < 1e-5, "vunet: device and CPU samples on images differ by %g", worst_s);
        printf("vunet: decode and sample on images, device against CPU: %.1e, %.1e\n", worst,
               worst_s);
        e = (vkvae_error){0};
        CHECK(vkvae_model_decode(vu_cpu, vz, NULL, 2, vc, &e) == VKVAE_BAD_INPUT &&
                  strstr(e.message, "given images as well"),
              "vunet: plain decode refused: %s", e.message);
        vkvae_sample_desc sd = {.count = 2, .seed = 1};
        e = (vkvae_error){0};
        CHECK(vkvae_record_sample(vu_gpu, VK_NULL_HANDLE, &sd, &e) == VKVAE_UNSUPPORTED &&
                  strstr(e.message, "decodes on images"),
              "vunet: recording refused: %s", e.message);
    }
    vkvae_model_destroy(vu_gpu);
    vkvae_model_destroy(vu_cpu);

    unlink(path);
    free(w);
    vkvae_session_destroy(s);
    return test_finish(ctx);
}
