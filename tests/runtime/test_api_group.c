/* Data-parallel training through the public API with no MPI (suite
 * 'runtime'): a vkvae_group whose allreduce is a loopback between threads,
 * each thread one member training its model (vkvae_model_desc.group) on
 * the CPU backend. Two and three members train what one model trains at
 * the same global batch (a conditional VAE, batch 16 over 100 rows: the
 * last batch of 4 rows splits 2+2 and 1+1+2): each epoch's loss within
 * 1e-5 relative, the evaluation too, and the members end with the same
 * weights bit for bit (their decodes equal), within 1e-4 of the single
 * model's. Refusal: more members than rows in a batch.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "vkvae.h"

static const char spec[] = "model group_cvae\n"
                           "input 1x12x12 range 0..1 likelihood bernoulli\n"
                           "condition label classes 3\n"
                           "latent 5 gaussian\n"
                           "encoder\n  flatten\n  concat label\n  dense 40 relu\n"
                           "decoder\n  concat label\n  dense 40 relu\n  dense 144\n  reshape 1x12x12\n"
                           "objective elbo\ntrain adam lr 0.003 batch 16 seed 7\n";

enum { ROWS = 100, PIXELS = 144, EPOCHS = 2, MAX_MEMBERS = 3, DECODED = 2 * PIXELS };

/* The members meet at a barrier; member 0 combines their buffers in rank
 * order into scratch, which all copy back. */
typedef struct loopback {
    pthread_barrier_t met;
    uint32_t size;
    void *bufs[MAX_MEMBERS];
    void *scratch;
} loopback;

typedef struct member {
    loopback *lb;
    vkvae_group group;
    const vkvae_data *data;
    vkvae_loss loss[EPOCHS], eval;
    float decoded[DECODED];
    vkvae_status status;
} member;

static vkvae_status loop_allreduce(void *user, void *buf, size_t count, vkvae_reduce_op op,
                                   vkvae_error *err)
{
    member *me = user;
    loopback *lb = me->lb;
    size_t size = op == VKVAE_REDUCE_SUM_F32 ? 4 : 8, bytes = count * size;
    lb->bufs[me->group.rank] = buf;
    pthread_barrier_wait(&lb->met);
    if (me->group.rank == 0) {
        lb->scratch = malloc(bytes ? bytes : 1);
        if (lb->scratch)
            memcpy(lb->scratch, lb->bufs[0], bytes);
        for (uint32_t r = 1; lb->scratch && r < lb->size; r++)
            for (size_t i = 0; i < count; i++) {
                if (op == VKVAE_REDUCE_SUM_F32)
                    ((float *)lb->scratch)[i] += ((const float *)lb->bufs[r])[i];
                else if (op == VKVAE_REDUCE_SUM_F64)
                    ((double *)lb->scratch)[i] += ((const double *)lb->bufs[r])[i];
                else {
                    uint64_t *a = (uint64_t *)lb->scratch + i, b = ((uint64_t *)lb->bufs[r])[i];
                    *a = b > *a ? b : *a;
                }
            }
    }
    pthread_barrier_wait(&lb->met);
    int ok = lb->scratch != NULL;
    if (ok)
        memcpy(buf, lb->scratch, bytes);
    pthread_barrier_wait(&lb->met);
    if (me->group.rank == 0)
        free(lb->scratch);
    return ok ? VKVAE_OK : vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "loopback: out of memory");
}

static void decode(vkvae_model *m, float *out)
{
    vkvae_error err = {0};
    float z[2 * 5];
    for (int i = 0; i < 10; i++)
        z[i] = 0.3f * (float)(i - 5);
    CHECK_OK(vkvae_model_decode(m, z, (const uint32_t[]){1, 2}, 2, out, &err), err);
}

/* Trains EPOCHS epochs alone (group NULL) or as a member; evaluates on
 * the first 60 rows; decodes two codes. */
static vkvae_status train(const vkvae_group *group, const vkvae_data *data, vkvae_loss *loss,
                          vkvae_loss *eval, float *decoded)
{
    vkvae_error err = {0};
    vkvae_model *m = NULL;
    vkvae_status st = vkvae_model_create(
        &(vkvae_model_desc){.spec = spec, .data_rows = ROWS, .group = group}, &m, &err);
    if (!st)
        st = vkvae_model_set_data(m, data, &err);
    for (uint32_t e = 0; !st && e < EPOCHS; e++)
        st = vkvae_model_train_epoch(m, NULL, &loss[e], &err);
    vkvae_data first60 = *data;
    first60.count = 60;
    if (!st)
        st = vkvae_model_evaluate(m, &first60, eval, &err);
    if (!st)
        decode(m, decoded);
    if (st)
        fprintf(stderr, "member %u: %s\n", group ? group->rank : 0, err.message);
    vkvae_model_destroy(m);
    return st;
}

static void *run_member(void *arg)
{
    member *me = arg;
    me->status = train(&me->group, me->data, me->loss, &me->eval, me->decoded);
    return NULL;
}

static int rel_close(double a, double b, double rel)
{
    return fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

int main(void)
{
    uint8_t images[ROWS * PIXELS];
    uint32_t labels[ROWS];
    vkvae_data data = test_blob_data(images, labels, ROWS);
    vkvae_loss alone[EPOCHS], alone_eval;
    float alone_decoded[DECODED];
    CHECK(train(NULL, &data, alone, &alone_eval, alone_decoded) == VKVAE_OK, "one model trains");

    for (uint32_t size = 2; size <= MAX_MEMBERS; size++) {
        loopback lb = {.size = size};
        pthread_barrier_init(&lb.met, NULL, size);
        member members[MAX_MEMBERS];
        pthread_t threads[MAX_MEMBERS];
        for (uint32_t r = 0; r < size; r++) {
            members[r] = (member){.lb = &lb, .data = &data};
            members[r].group = (vkvae_group){.rank = r, .size = size, .user = &members[r],
                                             .allreduce = loop_allreduce};
            pthread_create(&threads[r], NULL, run_member, &members[r]);
        }
        for (uint32_t r = 0; r < size; r++)
            pthread_join(threads[r], NULL);
        pthread_barrier_destroy(&lb.met);
        for (uint32_t r = 0; r < size; r++) {
            member *m = &members[r];
            CHECK(m->status == VKVAE_OK, "%u members: member %u failed", size, r);
            if (m->status)
                continue;
            for (uint32_t e = 0; e < EPOCHS; e++)
                CHECK(m->loss[e].images == ROWS && rel_close(m->loss[e].total, alone[e].total, 1e-5)
                          && rel_close(m->loss[e].kl, alone[e].kl, 1e-5),
                      "%u members, member %u, epoch %u: %.7f (kl %.7f, %u images), alone %.7f "
                      "(kl %.7f)", size, r, e + 1, m->loss[e].total, m->loss[e].kl,
                      m->loss[e].images, alone[e].total, alone[e].kl);
            CHECK(m->eval.images == 60 && rel_close(m->eval.total, alone_eval.total, 1e-5),
                  "%u members, member %u: evaluation %.7f, alone %.7f", size, r, m->eval.total,
                  alone_eval.total);
            CHECK(memcmp(m->decoded, members[0].decoded, sizeof m->decoded) == 0,
                  "%u members: member %u's weights differ from member 0's", size, r);
            double worst = 0;
            for (int i = 0; i < DECODED; i++)
                worst = fmax(worst, fabs(m->decoded[i] - alone_decoded[i]));
            CHECK(worst <= 1e-4, "%u members: decodes %.2g from the single model's", size, worst);
        }
        printf("%u members: epoch %u loss %.6f (alone %.6f), evaluation %.6f (alone %.6f)\n",
               size, EPOCHS, members[0].loss[EPOCHS - 1].total, alone[EPOCHS - 1].total,
               members[0].eval.total, alone_eval.total);
    }

    /* More members than a batch has rows: refused at create. */
    vkvae_error err = {0};
    vkvae_model *m = NULL;
    vkvae_group crowd = {.rank = 0, .size = 17, .allreduce = loop_allreduce};
    vkvae_status st = vkvae_model_create(
        &(vkvae_model_desc){.spec = spec, .data_rows = ROWS, .group = &crowd}, &m, &err);
    CHECK(st == VKVAE_BAD_INPUT && strstr(err.message, "17 processes share a batch of 16"),
          "17 members of a batch of 16: %s", err.message);
    vkvae_model_destroy(m);
    return test_finish(NULL);
}
