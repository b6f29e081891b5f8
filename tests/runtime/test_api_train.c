/* Training through the public API (suite 'runtime'): a model from spec
 * text, made for a data set of its own size, trains on a data set held in
 * memory on the GPU and on the CPU from the same seed, and the two agree
 * (losses within 1e-3 relative, as the whole-step tests require); an
 * evaluation does not change the weights; a checkpoint saved after one
 * epoch and reopened trains its second epoch exactly as the run that never
 * stopped (bit for bit on the CPU backend), and opens for inference with
 * the same decodes; a model holding fewer rows than its data set streams
 * it, to the same figures exactly. The IDX loader gives Fashion-MNIST's
 * splits. Refusals: training an inference-only model, no data, the wrong
 * image size, a label out of range.
 */
#include <math.h>
#include <unistd.h>

#include "session/session.h"
#include "spec/compile.h"
#include "test_util.h"
#include "vkvae.h"

/* A conditional MLP VAE with a latent and widths no built-in model has. */
static const char spec[] = "model api_cvae\n"
                           "input 1x12x12 range 0..1 likelihood bernoulli\n"
                           "condition label classes 3\n"
                           "latent 5 gaussian\n"
                           "encoder\n  flatten\n  concat label\n  dense 40 relu\n"
                           "decoder\n  concat label\n  dense 40 relu\n  dense 144\n  reshape 1x12x12\n"
                           "objective elbo\ntrain adam lr 0.003 batch 16 seed 7\n";

enum { ROWS = 100, PIXELS = 144 };

static int rel_close(double a, double b)
{
    return fabs(a - b) <= 1e-3 * fmax(fabs(a), fabs(b));
}

static vkvae_model *make(vkvae_context *ctx, const char *checkpoint, uint32_t data_rows)
{
    vkvae_error err = {0};
    vkvae_model *m = NULL;
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.context = ctx,
                                                    .spec = checkpoint ? NULL : spec,
                                                    .checkpoint = checkpoint,
                                                    .data_rows = data_rows},
                                &m, &err),
             err);
    if (!m) {
        fprintf(stderr, "cannot go on without the model\n");
        exit(1);
    }
    return m;
}

/* Trains epochs epochs on train; the last epoch's loss in *last. */
static void train(vkvae_model *m, const vkvae_data *train, uint32_t epochs, vkvae_loss *last)
{
    vkvae_error err = {0};
    CHECK_OK(vkvae_model_set_data(m, train, &err), err);
    for (uint32_t e = 0; e < epochs; e++)
        CHECK_OK(vkvae_model_train_epoch(m, NULL, last, &err), err);
}

static void decode(vkvae_model *m, float *out)
{
    vkvae_error err = {0};
    float z[2 * 5];
    for (int i = 0; i < 10; i++)
        z[i] = 0.3f * (float)(i - 5);
    CHECK_OK(vkvae_model_decode(m, z, (const uint32_t[]){1, 2}, 2, out, &err), err);
}

static int progress_calls;
static int on_progress(void *user, uint32_t done, uint32_t steps, const vkvae_loss *so_far)
{
    (void)user;
    progress_calls += done <= steps && so_far->images <= ROWS;
    return 0;
}

/* Asks to stop once 3 steps are done. */
static int stop_at_3(void *user, uint32_t done, uint32_t steps, const vkvae_loss *so_far)
{
    (void)user, (void)steps, (void)so_far;
    return done >= 3;
}

int main(void)
{
    vkvae_context *ctx = test_context();
    vkvae_error err = {0};
    char ckpt[] = "/tmp/vkvae_api_train_XXXXXX";
    int fd = mkstemp(ckpt);
    CHECK(fd >= 0, "mkstemp");
    close(fd);

    /* A data set in memory: bright blobs whose place is the label. */
    uint8_t images[ROWS * PIXELS];
    uint32_t labels[ROWS];
    vkvae_data data = test_blob_data(images, labels, ROWS);
    vkvae_data first60 = data;
    first60.count = 60;

    /* GPU and CPU from the same seed: two epochs, then an evaluation. */
    vkvae_model *gpu = make(ctx, NULL, ROWS), *cpu = make(NULL, NULL, ROWS);
    vkvae_model_info info = vkvae_model_query(gpu);
    CHECK(info.data_rows == ROWS && info.batch == 16 && info.classes == 3 && info.epoch == 0,
          "info: data_rows %u batch %u classes %u epoch %u", info.data_rows, info.batch,
          info.classes, info.epoch);
    vkvae_loss lg, lc, eg, ec, eg2;
    CHECK_OK(vkvae_model_set_data(gpu, &data, &err), err);
    CHECK_OK(vkvae_model_train_epoch(gpu, &(vkvae_epoch_desc){.progress = on_progress}, &lg,
                                     &err),
             err);
    CHECK(progress_calls > 0, "no progress reported");
    CHECK_OK(vkvae_model_train_epoch(gpu, NULL, &lg, &err), err);
    train(cpu, &data, 2, &lc);
    CHECK(lg.images == ROWS && lc.images == ROWS, "images %u, %u", lg.images, lc.images);
    CHECK(rel_close(lg.total, lc.total) && rel_close(lg.kl, lc.kl),
          "epoch 2: GPU %.6f (kl %.6f), CPU %.6f (kl %.6f)", lg.total, lg.kl, lc.total, lc.kl);
    CHECK_OK(vkvae_model_evaluate(gpu, &first60, &eg, &err), err);
    CHECK_OK(vkvae_model_evaluate(cpu, &first60, &ec, &err), err);
    CHECK_OK(vkvae_model_evaluate(gpu, &first60, &eg2, &err), err);
    CHECK(eg.images == 60 && rel_close(eg.total, ec.total) && eg.total == eg2.total,
          "evaluate: GPU %.6f then %.6f, CPU %.6f", eg.total, eg2.total, ec.total);
    printf("epoch 2: GPU %.6f, CPU %.6f nats/image; evaluation GPU %.6f, CPU %.6f\n", lg.total,
           lc.total, eg.total, ec.total);
    info = vkvae_model_query(gpu);
    CHECK(info.epoch == 2 && info.step == 14, "after 2 epochs: epoch %u step %llu", info.epoch,
          (unsigned long long)info.step);

    /* Stopping part way through an epoch changes nothing either: the model
     * stopped at step 3 of epoch 2, saved, reopened, finishes the epoch
     * exactly as the unbroken run did. */
    vkvae_model *part = make(NULL, NULL, ROWS);
    vkvae_loss lp;
    train(part, &data, 1, &lp);
    vkvae_status cs = vkvae_model_train_epoch(part, &(vkvae_epoch_desc){.progress = stop_at_3},
                                              &lp, &err);
    info = vkvae_model_query(part);
    CHECK(cs == VKVAE_CANCELLED && info.epoch == 1 && info.epoch_step == 3 && info.step == 10,
          "stopped: %s, epoch %u epoch_step %u step %llu", vkvae_status_name(cs), info.epoch,
          info.epoch_step, (unsigned long long)info.step);
    err = (vkvae_error){0};
    CHECK_OK(vkvae_model_save(part, ckpt, &err), err);
    vkvae_model_destroy(part);
    part = make(NULL, ckpt, ROWS);
    info = vkvae_model_query(part);
    CHECK(info.epoch == 1 && info.epoch_step == 3 && info.step == 10, "reopened at epoch %u "
          "epoch_step %u step %llu", info.epoch, info.epoch_step, (unsigned long long)info.step);
    CHECK_OK(vkvae_model_set_data(part, &data, &err), err);
    CHECK_OK(vkvae_model_train_epoch(part, NULL, &lp, &err), err);
    float pa[2 * PIXELS], pb[2 * PIXELS];
    decode(part, pa);
    decode(cpu, pb);
    info = vkvae_model_query(part);
    CHECK(info.epoch == 2 && info.epoch_step == 0 && info.step == 14 &&
              memcmp(pa, pb, sizeof pa) == 0,
          "the stopped run, finished, decodes differently (epoch %u step %llu)", info.epoch,
          (unsigned long long)info.step);
    vkvae_model_destroy(part);

    /* Stopping after one epoch changes nothing (the CPU backend: exactly). */
    vkvae_model *half = make(NULL, NULL, ROWS);
    vkvae_loss lh;
    train(half, &data, 1, &lh);
    CHECK_OK(vkvae_model_save(half, ckpt, &err), err);
    vkvae_model_destroy(half);
    vkvae_model *resumed = make(NULL, ckpt, ROWS);
    info = vkvae_model_query(resumed);
    CHECK(info.epoch == 1 && info.step == 7, "resumed at epoch %u step %llu", info.epoch,
          (unsigned long long)info.step);
    train(resumed, &data, 1, &lh);
    CHECK(lh.total == lc.total && lh.recon == lc.recon, "resumed epoch 2: %.9f, unbroken %.9f",
          lh.total, lc.total);
    float a[2 * PIXELS], b[2 * PIXELS];
    decode(resumed, a);
    decode(cpu, b);
    CHECK(memcmp(a, b, sizeof a) == 0, "resumed and unbroken runs decode differently");

    /* The checkpoint opens for inference too, on the GPU. */
    CHECK_OK(vkvae_model_save(cpu, ckpt, &err), err);
    vkvae_model *viewer = make(ctx, ckpt, 0);
    decode(viewer, a);
    double worst = 0;
    for (int i = 0; i < 2 * PIXELS; i++)
        worst = fmax(worst, fabs((double)a[i] - b[i]));
    CHECK(worst < 1e-4, "the saved model decodes %.3g away from the trained one", worst);

    /* A model holding 40 rows streams the 100 through in chunks of two
     * batches, epochs and evaluations alike, to the same figures as the
     * model that holds them all (the CPU backend: exactly). */
    vkvae_model *small = make(NULL, NULL, 40);
    vkvae_loss ls, es;
    train(small, &data, 2, &ls);
    CHECK_OK(vkvae_model_evaluate(small, &data, &es, &err), err);
    CHECK_OK(vkvae_model_evaluate(cpu, &data, &ec, &err), err);
    CHECK(ls.total == lc.total && ls.kl == lc.kl && es.total == ec.total,
          "streamed: epoch 2 %.9f, evaluation %.9f; resident %.9f, %.9f", ls.total, es.total,
          lc.total, ec.total);
    vkvae_model_destroy(small);

    /* An unconditional model trains as a session driven directly (what
     * `vkvae train` runs) on the same bytes: the same losses, exactly. */
    static const char plain[] = "model plain\n"
                                "input 1x12x12 range 0..1 likelihood bernoulli\n"
                                "latent 2 gaussian\n"
                                "encoder\n  flatten\n  dense 16 relu\n"
                                "decoder\n  dense 144\n  reshape 1x12x12\n"
                                "objective elbo\ntrain adam lr 0.01 batch 20 seed 3\n";
    vkvae_model *api = NULL;
    CHECK_OK(vkvae_model_create(&(vkvae_model_desc){.spec = plain, .data_rows = ROWS}, &api,
                                &err),
             err);
    vkvae_plan *plan = NULL;
    vkvae_session *direct = NULL;
    CHECK_OK(vkvae_spec_compile(&(vkvae_spec_desc){.text = plain, .data_rows = ROWS}, &plan,
                                NULL, &err),
             err);
    if (api && plan) {
        CHECK_OK(vkvae_session_create(&(vkvae_session_desc){.plan = plan}, &direct, &err), err);
        vkvae_idx idx = {.ndim = 3, .count = ROWS, .channels = 1, .rows = 12, .cols = 12,
                         .data = images};
        uint32_t step = 0;
        vkvae_losses l[2] = {{0}};
        vkvae_loss via_api[2];
        CHECK_OK(vkvae_session_init_params(direct, 3, &err), err);
        CHECK_OK(vkvae_session_set_train_data(direct, &idx, NULL, &err), err);
        CHECK_OK(vkvae_model_set_data(api, &data, &err), err);
        for (uint32_t e = 0; e < 2; e++) {
            CHECK_OK(vkvae_session_train_epoch(direct, 3, e, 0, &step, 1.0f, NULL, NULL, &l[e],
                                               &err),
                     err);
            CHECK_OK(vkvae_model_train_epoch(api, NULL, &via_api[e], &err), err);
            CHECK(via_api[e].total == l[e].total / ROWS && via_api[e].kl == l[e].kl / ROWS,
                  "epoch %u: the API's %.9f, the session's %.9f", e + 1, via_api[e].total,
                  l[e].total / ROWS);
        }
        CHECK(l[1].total < l[0].total, "no learning: %.4f then %.4f", l[0].total / ROWS,
              l[1].total / ROWS);
    }
    vkvae_session_destroy(direct);
    vkvae_spec_plan_free(plan);
    vkvae_model_destroy(api);

    /* Refusals, each BAD_INPUT with a message. */
    struct {
        vkvae_model *m;
        vkvae_data d;
        const char *says;
    } bad[] = {
        {viewer, data, "inference only"},
        {gpu, (vkvae_data){.images = images, .labels = labels, .count = 10, .channels = 1,
                           .height = 10, .width = 10}, "takes 1x12x12"},
        {gpu, (vkvae_data){.images = images, .count = 10, .channels = 1, .height = 12,
                           .width = 12}, "needs labels"},
        {gpu, (vkvae_data){.images = images, .labels = (const uint32_t[]){0, 3}, .count = 2,
                           .channels = 1, .height = 12, .width = 12}, "not below its 3 classes"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vkvae_error e = {0};
        vkvae_status st = vkvae_model_set_data(bad[i].m, &bad[i].d, &e);
        CHECK(st == VKVAE_BAD_INPUT && strstr(e.message, bad[i].says), "case %zu: %s: %s", i,
              vkvae_status_name(st), e.message);
    }
    vkvae_model *fresh = make(NULL, NULL, ROWS);
    vkvae_error e = {0};
    CHECK(vkvae_model_train_epoch(fresh, NULL, NULL, &e) == VKVAE_BAD_INPUT &&
              strstr(e.message, "vkvae_model_set_data first"),
          "training without data: %s", e.message);
    vkvae_model_destroy(fresh);

    /* Fashion-MNIST through the data set loader. */
    vkvae_dataset *ds = NULL;
    CHECK_OK(vkvae_dataset_load(&(vkvae_dataset_desc){.path = "/usr/share/datasets/fashion-mnist"},
                                &ds, &err),
             err);
    if (ds) {
        vkvae_data tr = vkvae_dataset_split(ds, 0), te = vkvae_dataset_split(ds, 1);
        CHECK(tr.count == 60000 && te.count == 10000 && tr.channels == 1 && tr.height == 28 &&
                  tr.width == 28 && te.labels[0] < 10 && tr.labels[59999] < 10,
              "fashion-mnist: %u and %u images of %ux%ux%u", tr.count, te.count, tr.channels,
              tr.height, tr.width);
    }
    vkvae_dataset_destroy(ds);
    e = (vkvae_error){0};
    CHECK(vkvae_dataset_load(&(vkvae_dataset_desc){.path = "/nonexistent"}, &ds, &e) !=
                  VKVAE_OK &&
              ds == NULL &&
              strstr(e.message, "/nonexistent"),
          "a missing folder: %s", e.message);

    vkvae_model_destroy(viewer);
    vkvae_model_destroy(resumed);
    vkvae_model_destroy(cpu);
    vkvae_model_destroy(gpu);
    unlink(ckpt);
    return test_finish(ctx);
}
