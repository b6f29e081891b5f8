/* libFuzzer target: the checkpoint loader (runtime/session/checkpoint.c,
 * vkvae_checkpoint_load) against real generated plans: tests/specs/golden's
 * tiny_ae (SGD with momentum) and tiny_vae (AdamW, conditional), emitted by
 * vkvae-gen at build time (fuzz/meson.build). Every input is loaded into
 * both plans, with and without the optimizer state. The plan's tensors are
 * host arrays of exactly their size, so ASan sees a write past one.
 *
 * Properties checked besides "no sanitizer report":
 *   - a rejected file fails with BAD_INPUT or IO and a message naming the
 *     file, and no write callback ran (all or nothing);
 *   - a loaded file wrote each plan tensor it covers exactly once, only
 *     finite values, and the parameters at least;
 *   - a file that loads with its optimizer state also loads without it;
 *   - round trip: saving what was loaded (with the loaded training state)
 *     and loading that again gives the same bits in every tensor. */
#include <math.h>

#include "fuzz_file.h"
#include "session/checkpoint.h"

extern const vkvae_plan fuzz_plan_tiny_ae, fuzz_plan_tiny_vae;
static const vkvae_plan *const plans[] = { &fuzz_plan_tiny_ae, &fuzz_plan_tiny_vae };
enum { N_PLANS = sizeof plans / sizeof *plans, MAX_TENSORS = 128 };

typedef struct host {
    const vkvae_plan *plan;
    float *t[MAX_TENSORS];
    unsigned writes[MAX_TENSORS];
    unsigned total_writes;
} host;

static void host_init(host *h, const vkvae_plan *plan)
{
    FUZZ_CHECK(plan->n_tensors <= MAX_TENSORS);
    memset(h, 0, sizeof *h);
    h->plan = plan;
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        uint64_t n = plan->tensors[i].elems;
        h->t[i] = calloc(n ? n : 1, sizeof(float));
        FUZZ_CHECK(h->t[i] != NULL);
    }
}

static void host_free(host *h)
{
    for (uint32_t i = 0; i < h->plan->n_tensors; i++)
        free(h->t[i]);
}

static vkvae_status write_cb(void *user, uint32_t t, const float *src, vkvae_error *err)
{
    (void)err;
    host *h = user;
    FUZZ_CHECK(t < h->plan->n_tensors);
    memcpy(h->t[t], src, h->plan->tensors[t].elems * sizeof(float));
    h->writes[t]++;
    h->total_writes++;
    return VKVAE_OK;
}

static vkvae_status read_cb(void *user, uint32_t t, float *dst, vkvae_error *err)
{
    (void)err;
    host *h = user;
    FUZZ_CHECK(t < h->plan->n_tensors);
    memcpy(dst, h->t[t], h->plan->tensors[t].elems * sizeof(float));
    return VKVAE_OK;
}

static int is_param(const vkvae_plan *plan, uint32_t t)
{
    return plan->buffers[plan->tensors[t].buffer].role == VKVAE_ROLE_PARAM;
}

/* Loads path into a fresh host; returns the status, checks the contract. */
static vkvae_status load(const char *path, const vkvae_plan *plan, int with_optimizer, host *h,
                         vkvae_train_state *state)
{
    host_init(h, plan);
    vkvae_error err = { 0 };
    vkvae_status s = vkvae_checkpoint_load(path, plan, write_cb, h, state, with_optimizer, &err);
    if (s != VKVAE_OK) {
        FUZZ_CHECK_FAILURE(s, err);
        FUZZ_CHECK(s == VKVAE_BAD_INPUT || s == VKVAE_IO);
        if (!strstr(err.message, path))
            fprintf(stderr, "message does not name the file: %s\n", err.message);
        FUZZ_CHECK(strstr(err.message, path) != NULL);
        FUZZ_CHECK(h->total_writes == 0);
        return s;
    }
    int params = 0;
    for (uint32_t i = 0; i < plan->n_tensors; i++) {
        FUZZ_CHECK(h->writes[i] <= 1);
        if (!h->writes[i])
            continue;
        FUZZ_CHECK(with_optimizer || plan->buffers[plan->tensors[i].buffer].role != VKVAE_ROLE_OPTIM);
        params += is_param(plan, i);
        for (uint64_t k = 0; k < plan->tensors[i].elems; k++)
            FUZZ_CHECK(isfinite(h->t[i][k]));
    }
    FUZZ_CHECK(params >= 1);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size);
    for (int p = 0; p < N_PLANS; p++) {
        const vkvae_plan *plan = plans[p];
        int loaded_with = 0;
        for (int with_optimizer = 1; with_optimizer >= 0; with_optimizer--) {
            host h;
            vkvae_train_state state = { 0 };
            vkvae_status s = load(path, plan, with_optimizer, &h, &state);
            if (with_optimizer)
                loaded_with = s == VKVAE_OK;
            else
                FUZZ_CHECK(!loaded_with || s == VKVAE_OK);
            if (s != VKVAE_OK) {
                host_free(&h);
                continue;
            }
            /* Save what was loaded, load it again: the same bits. */
            const char *copy = fuzz_path(1);
            vkvae_error err = { 0 };
            vkvae_train_state save_state = { .epoch = state.epoch, .step = state.step,
                                             .seed = state.seed };
            s = vkvae_checkpoint_save(copy, plan, read_cb, &h, &save_state, &err);
            if (s != VKVAE_OK)
                fprintf(stderr, "saving a loaded checkpoint failed: %s\n", err.message);
            FUZZ_CHECK(s == VKVAE_OK);
            host back;
            vkvae_train_state again = { 0 };
            s = load(copy, plan, with_optimizer, &back, &again);
            FUZZ_CHECK(s == VKVAE_OK);
            FUZZ_CHECK(again.epoch == state.epoch && again.step == state.step &&
                       again.seed == state.seed && !again.spec_differs);
            for (uint32_t i = 0; i < plan->n_tensors; i++) {
                FUZZ_CHECK(back.writes[i] == h.writes[i]);
                if (h.writes[i])
                    FUZZ_CHECK(memcmp(back.t[i], h.t[i],
                                      plan->tensors[i].elems * sizeof(float)) == 0);
            }
            host_free(&back);
            host_free(&h);
        }
    }
    return 0;
}
