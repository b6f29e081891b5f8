/* Checkpoints (runtime/session/checkpoint.c) with the tiny plan on the CPU backend:
 * a save/load round trip is bit for bit; training 2 steps, saving, loading
 * into a fresh backend and training 2 more equals 4 straight steps bit for
 * bit; the file holds the parameters under their names and shapes, the
 * Adam moments cut from the optimizer buffer and the metadata; SGD's
 * momentum likewise; an export holds the parameters alone, loads for
 * inference and is refused for resuming; and every malformed file (crafted
 * with the safetensors writer) is refused with its one-line message before
 * anything is written.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/cpu_backend.h"
#include "io/safetensors.h"
#include "plan/init.h"
#include "plan/shuffle.h"
#include "session/checkpoint.h"
#include "tiny_plan.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

static const vkvae_buffer_desc buffers[] = { TINY_BUFFERS };
static const vkvae_tensor_desc tensors[] = { TINY_TENSORS };
static const vkvae_step_desc train_steps[] = { TINY_TRAIN_STEPS };
static const vkvae_program_desc programs[] = {
    { VKVAE_PROGRAM_TRAIN, "train", sizeof train_steps / sizeof *train_steps, train_steps },
};
/* A spec text with a quote, a backslash and newlines: JSON escapes. */
static const char spec[] = "model tiny_ae\ninput 6 range 0..1 likelihood bernoulli\n"
                           "# \"tiny\" \\ test\ntrain adam lr 0.05 batch 3\n";
static const vkvae_plan plan = {
    .model = "tiny_ae", .spec_text = spec, .batch = B,
    .n_buffers = sizeof buffers / sizeof *buffers, .n_tensors = sizeof tensors / sizeof *tensors,
    .n_programs = 1, .buffers = buffers, .tensors = tensors, .programs = programs,
};

enum { STEPS_PER_EPOCH = (N + B - 1) / B, SEED = 1 };

/* The callbacks over the CPU backend; writes are counted. */
typedef struct target {
    vkvae_cpu *cpu;
    int writes;
} target;

static vkvae_status read_cb(void *user, uint32_t t, float *dst, vkvae_error *err)
{
    return vkvae_cpu_read_f32(((target *)user)->cpu, t, dst, err);
}

static vkvae_status write_cb(void *user, uint32_t t, const float *src, vkvae_error *err)
{
    ((target *)user)->writes++;
    return vkvae_cpu_write_f32(((target *)user)->cpu, t, src, err);
}

static char dir[64];

static const char *file(const char *name)
{
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

/* A fresh f32 backend with the training images; parameters initialised
 * with init_seed (0: left zero). */
static vkvae_cpu *fresh(const vkvae_plan *p, uint32_t init_seed)
{
    vkvae_cpu *cpu = NULL;
    vkvae_error err = { 0 };
    if (vkvae_cpu_create(p, VKVAE_CPU_F32, &cpu, &err)) {
        printf("  create: %s\n", err.message);
        exit(1);
    }
    uint8_t *images = vkvae_cpu_tensor(cpu, T_IMAGES).data;
    for (int i = 0; i < N * IN; i++)
        images[i] = (uint8_t)(((i / IN) % 2 == (i % IN) % 2) ? 230 : 20);
    if (init_seed)
        vkvae_cpu_init_params(cpu, init_seed, &err);
    return cpu;
}

/* Optimizer steps [from, to): the epoch and batch follow from the step. */
static void run(vkvae_cpu *cpu, uint32_t from, uint32_t to)
{
    vkvae_error err = { 0 };
    for (uint32_t step = from; step < to; step++) {
        uint32_t epoch = step / STEPS_PER_EPOCH, base = step % STEPS_PER_EPOCH * B;
        vkvae_shuffle(vkvae_cpu_tensor(cpu, T_PERM).data, N, SEED, epoch);
        vkvae_push push = { .seed = SEED, .step = step, .base = base,
                            .rows = N - base < B ? N - base : B, .grad_scale = 1.0f / B };
        if (vkvae_cpu_run(cpu, VKVAE_PROGRAM_TRAIN, &push, &err)) {
            printf("  run: %s\n", err.message);
            exit(1);
        }
    }
}

/* 1 if tensor t holds the same bits in both backends. */
static int same_bits(vkvae_cpu *a, vkvae_cpu *b, uint32_t t)
{
    return memcmp(vkvae_cpu_tensor(a, t).data, vkvae_cpu_tensor(b, t).data,
                  vkvae_cpu_tensor(a, t).bytes) == 0;
}

static int same_state(vkvae_cpu *a, vkvae_cpu *b)
{
    return same_bits(a, b, T_P_ALL) && same_bits(a, b, T_M) && same_bits(a, b, T_V);
}

static int all_zero(vkvae_cpu *cpu, uint32_t t)
{
    const float *v = vkvae_cpu_tensor(cpu, t).data;
    for (uint64_t i = 0; i < vkvae_cpu_tensor(cpu, t).elems; i++)
        if (v[i] != 0.0f)
            return 0;
    return 1;
}

static void test_round_trip(void)
{
    vkvae_cpu *a = fresh(&plan, SEED);
    run(a, 0, 5);
    target ta = { a, 0 };
    vkvae_error err = { 0 };
    vkvae_st_meta extra[] = { { "data", "fashion-mnist/train" } };
    vkvae_train_state st = { .epoch = 1, .step = 5, .seed = SEED, .meta = extra, .meta_count = 1 }, got = { 0 };
    vkvae_status s = vkvae_checkpoint_save(file("a.st"), &plan, read_cb, &ta, &st, &err);
    check(s == VKVAE_OK, "SAVE(tiny_ae, step 5)");
    if (s)
        printf("  %s\n", err.message);

    vkvae_cpu *b = fresh(&plan, 0);
    target tb = { b, 0 };
    s = vkvae_checkpoint_load(file("a.st"), &plan, write_cb, &tb, &got, 1, &err);
    if (s)
        printf("  %s\n", err.message);
    check(s == VKVAE_OK && same_state(a, b) && got.epoch == 1 && got.step == 5 && got.seed == SEED &&
              !got.spec_differs && tb.writes == 6,
          "LOAD(tiny_ae) params, adam.m, adam.v bit for bit; state; 6 writes");

    /* Weights only: the moments stay as they were (zero). */
    vkvae_cpu *c = fresh(&plan, 0);
    target tc = { c, 0 };
    s = vkvae_checkpoint_load(file("a.st"), &plan, write_cb, &tc, NULL, 0, &err);
    check(s == VKVAE_OK && same_bits(a, c, T_P_ALL) && all_zero(c, T_M) && all_zero(c, T_V) &&
              tc.writes == 4,
          "LOAD(weights only) params bit for bit, moments untouched");

    /* The file: parameters by name and shape, then m and v cut from adam. */
    vkvae_safetensors f;
    s = vkvae_st_read(&f, file("a.st"), &err);
    static const struct { const char *name; uint32_t rank, d0, d1; } want[] = {
        { "fc.weight", 2, 4, 6 }, { "fc.bias", 1, 4, 0 }, { "dec.weight", 2, 6, 4 }, { "dec.bias", 1, 6, 0 },
        { "optim.m.fc.weight", 2, 4, 6 }, { "optim.m.fc.bias", 1, 4, 0 },
        { "optim.m.dec.weight", 2, 6, 4 }, { "optim.m.dec.bias", 1, 6, 0 },
        { "optim.v.fc.weight", 2, 4, 6 }, { "optim.v.fc.bias", 1, 4, 0 },
        { "optim.v.dec.weight", 2, 6, 4 }, { "optim.v.dec.bias", 1, 6, 0 },
    };
    int ok = s == VKVAE_OK && f.tensor_count == 12;
    for (size_t i = 0; ok && i < 12; i++) {
        const vkvae_st_tensor *t = &f.tensors[i];
        ok = strcmp(t->name, want[i].name) == 0 && t->dtype == VKVAE_DTYPE_F32 &&
             t->ndim == want[i].rank && t->shape[0] == want[i].d0 && (t->ndim == 1 || t->shape[1] == want[i].d1);
        if (!ok)
            printf("  tensor %zu: %s, want %s\n", i, t->name, want[i].name);
    }
    check(ok, "FILE(tensors) fc.weight [4,6] fc.bias [4] dec.weight [6,4] dec.bias [6], optim.m.*, optim.v.*");
    /* dec.bias sits at params byte 768: its v at adam byte 1024 + 768. */
    const float *v = vkvae_cpu_tensor(a, T_V).data, *p = vkvae_cpu_tensor(a, T_DEC_B).data;
    const vkvae_st_tensor *fv = vkvae_st_find(&f, "optim.v.dec.bias"), *fp = vkvae_st_find(&f, "dec.bias");
    check(fv && fp && memcmp(fv->data, v + 192, IN * 4) == 0 && memcmp(fp->data, p, IN * 4) == 0 &&
              !all_zero(a, T_V),
          "FILE(optim.v.dec.bias) = adam bytes 1792..1816");
    /* The checksum is zlib's CRC-32 of the whole data section. */
    char crc[12];
    snprintf(crc, sizeof crc, "%08" PRIx32, vkvae_st_crc32(0, f.data, f.data_size));
    const char *const keys[][2] = {
        { "format", "vkvae-1" }, { "model", "tiny_ae" }, { "spec", spec }, { "epoch", "1" },
        { "step", "5" }, { "seed", "1" }, { "optimizer", "adam" }, { "data_crc32", crc },
        { "data", "fashion-mnist/train" },
    };
    ok = s == VKVAE_OK && f.meta_count == 9;
    for (size_t i = 0; ok && i < 9; i++)
        ok = strcmp(f.meta[i].key, keys[i][0]) == 0 && strcmp(f.meta[i].value, keys[i][1]) == 0;
    check(ok, "FILE(metadata) format model spec epoch step seed optimizer data_crc32, then the "
              "caller's");
    vkvae_st_destroy(&f);

    /* A reserved key, and a NaN, are refused; the old file stays. */
    vkvae_error e2 = { 0 };
    vkvae_st_meta bad[] = { { "step", "7" } };
    vkvae_train_state bad_st = { .meta = bad, .meta_count = 1 };
    check(vkvae_checkpoint_save(file("a.st"), &plan, read_cb, &ta, &bad_st, &e2) == VKVAE_BAD_INPUT,
          "SAVE(reserved metadata key) refused");
    printf("  %s\n", e2.message);
    ((float *)vkvae_cpu_tensor(a, T_FC_B).data)[2] = NAN;
    vkvae_error e3 = { 0 };
    check(vkvae_checkpoint_save(file("a.st"), &plan, read_cb, &ta, &st, &e3) == VKVAE_DIVERGED &&
              vkvae_checkpoint_load(file("a.st"), &plan, write_cb, &tc, NULL, 1, &err) == VKVAE_OK,
          "SAVE(nan) refused, the old file intact");
    printf("  %s\n", e3.message);
    vkvae_cpu_destroy(a);
    vkvae_cpu_destroy(b);
    vkvae_cpu_destroy(c);
}

static void test_resume(void)
{
    vkvae_error err = { 0 };
    /* Across a batch (2+2), an epoch boundary (4+3) and a short last batch (3+2). */
    static const uint32_t cuts[][2] = { { 2, 4 }, { 4, 7 }, { 3, 5 } };
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        uint32_t cut = cuts[i][0], end = cuts[i][1];
        vkvae_cpu *straight = fresh(&plan, SEED), *first = fresh(&plan, SEED);
        run(straight, 0, end);
        run(first, 0, cut);
        target t1 = { first, 0 };
        vkvae_train_state st = { .epoch = cut / STEPS_PER_EPOCH, .step = cut, .seed = SEED }, got = { 0 };
        vkvae_status s = vkvae_checkpoint_save(file("resume.st"), &plan, read_cb, &t1, &st, &err);
        /* The resumed backend starts from other weights: the load must replace them. */
        vkvae_cpu *second = fresh(&plan, 99);
        target t2 = { second, 0 };
        if (!s)
            s = vkvae_checkpoint_load(file("resume.st"), &plan, write_cb, &t2, &got, 1, &err);
        if (s)
            printf("  %s\n", err.message);
        run(second, (uint32_t)got.step, end);
        char what[96];
        snprintf(what, sizeof what, "RESUME(%u+%u steps) = %u straight, bit for bit", cut, end - cut, end);
        check(s == VKVAE_OK && got.step == cut && same_state(straight, second) && !same_bits(first, second, T_P_ALL),
              what);
        vkvae_cpu_destroy(straight);
        vkvae_cpu_destroy(first);
        vkvae_cpu_destroy(second);
    }
}

/* Copies src's tensors and metadata to a new file, changed by `edit`. */
typedef struct crafted {
    vkvae_st_tensor t[16];
    vkvae_st_meta m[16];
    size_t nt, nm;
    float scratch[64];
} crafted;

static void drop_tensor(crafted *c, const char *name)
{
    for (size_t i = 0; i < c->nt; i++)
        if (!strcmp(c->t[i].name, name)) {
            memmove(&c->t[i], &c->t[i + 1], (c->nt - i - 1) * sizeof *c->t);
            c->nt--;
        }
}

static void drop_meta(crafted *c, const char *key)
{
    for (size_t i = 0; i < c->nm; i++)
        if (!strcmp(c->m[i].key, key)) {
            memmove(&c->m[i], &c->m[i + 1], (c->nm - i - 1) * sizeof *c->m);
            c->nm--;
        }
}

static void set_meta(crafted *c, const char *key, const char *value)
{
    for (size_t i = 0; i < c->nm; i++)
        if (!strcmp(c->m[i].key, key))
            c->m[i].value = value;
}

static vkvae_st_tensor *tensor(crafted *c, const char *name)
{
    for (size_t i = 0; i < c->nt; i++)
        if (!strcmp(c->t[i].name, name))
            return &c->t[i];
    return NULL;
}

/* One value of a tensor changed, in scratch. */
static void poison(crafted *c, const char *name, size_t index, float value)
{
    vkvae_st_tensor *t = tensor(c, name);
    memcpy(c->scratch, t->data, vkvae_st_tensor_bytes(t));
    c->scratch[index] = value;
    t->data = c->scratch;
}

enum { E_NO_FORMAT, E_FORMAT, E_MODEL, E_SPEC, E_MISSING, E_MISSING_OPTIM, E_SHAPE, E_RANK, E_DTYPE,
       E_NAN, E_INF_OPTIM, E_EXTRA, E_OPTIMIZER, E_STEP, E_CHECKSUM, E_COUNT };

static void test_rejections(void)
{
    vkvae_error err = { 0 };
    vkvae_cpu *a = fresh(&plan, SEED);
    run(a, 0, 3);
    target ta = { a, 0 };
    vkvae_train_state st = { .epoch = 0, .step = 3, .seed = SEED };
    char good[128], trail[128];
    snprintf(good, sizeof good, "%s", file("good.st"));
    snprintf(trail, sizeof trail, "%s", file("trailing.st"));
    vkvae_safetensors f;
    if (vkvae_checkpoint_save(good, &plan, read_cb, &ta, &st, &err) || vkvae_st_read(&f, good, &err)) {
        check(0, "REJECT(setup)");
        printf("  %s\n", err.message);
        return;
    }
    const vkvae_st_tensor extra = { "extra.weight", VKVAE_DTYPE_F32, 1, { 2 }, (float[]){ 1, 2 }, 0, 0 };
    static const struct { const char *name, *fmt; int with_optimizer; } cases[E_COUNT] = {
        [E_NO_FORMAT] = { "no_format", "%s: not a vkvae checkpoint (no \"format\" in its metadata)", 1 },
        [E_FORMAT] = { "format", "%s: checkpoint format 'vkvae-9', this build reads 'vkvae-1'", 1 },
        [E_MODEL] = { "model", "%s is of model 'ae_mlp', this is 'tiny_ae'", 1 },
        [E_SPEC] = { "spec", "", 1 },
        [E_MISSING] = { "missing", "%s has no tensor 'dec.bias'", 0 },
        [E_MISSING_OPTIM] = { "missing_optim", "%s has no tensor 'optim.v.fc.bias'", 1 },
        [E_SHAPE] = { "shape", "fc.weight has shape [4,6] in the plan, [3,8] in %s", 1 },
        [E_RANK] = { "rank", "dec.bias has shape [6] in the plan, [1,6] in %s", 1 },
        [E_DTYPE] = { "dtype", "%s: fc.bias is I32, checkpoints hold F32", 1 },
        [E_NAN] = { "nan", "%s: dec.weight[5] is nan (a corrupt checkpoint)", 0 },
        [E_INF_OPTIM] = { "inf_optim", "%s: optim.m.fc.bias[1] is inf (a corrupt checkpoint)", 1 },
        [E_EXTRA] = { "extra", "%s has tensor 'extra.weight', which the plan lacks", 0 },
        [E_OPTIMIZER] = { "optimizer", "%s holds sgd state, this plan trains with adam", 1 },
        [E_STEP] = { "step", "%s: checkpoint metadata \"step\" is '12x', not a number in range", 1 },
        [E_CHECKSUM] = { "checksum", "%s: corrupted: checksum mismatch", 0 },
    };
    for (int k = 0; k < E_COUNT; k++) {
        crafted c = { .nt = f.tensor_count, .nm = f.meta_count };
        memcpy(c.t, f.tensors, f.tensor_count * sizeof *c.t);
        memcpy(c.m, f.meta, f.meta_count * sizeof *c.m);
        /* A file made elsewhere has no checksum: each case below then
         * reaches the check it is about. The last keeps ours, over a
         * weight that changed (a bit flipped on disk). */
        if (k != E_CHECKSUM)
            drop_meta(&c, "data_crc32");
        float flipped[6];
        switch (k) {
        case E_NO_FORMAT: drop_meta(&c, "format"); break;
        case E_FORMAT: set_meta(&c, "format", "vkvae-9"); break;
        case E_MODEL: set_meta(&c, "model", "ae_mlp"); break;
        case E_SPEC: set_meta(&c, "spec", "model tiny_ae\ntrain adam lr 0.01\n"); break;
        case E_MISSING: drop_tensor(&c, "dec.bias"); break;
        case E_MISSING_OPTIM: drop_tensor(&c, "optim.v.fc.bias"); break;
        case E_SHAPE: tensor(&c, "fc.weight")->shape[0] = 3, tensor(&c, "fc.weight")->shape[1] = 8; break;
        case E_RANK: *tensor(&c, "dec.bias") = (vkvae_st_tensor){ "dec.bias", VKVAE_DTYPE_F32, 2, { 1, 6 },
                                                                   tensor(&c, "dec.bias")->data, 0, 0 }; break;
        case E_DTYPE: tensor(&c, "fc.bias")->dtype = VKVAE_DTYPE_I32; break;
        case E_NAN: poison(&c, "dec.weight", 5, NAN); break;
        case E_INF_OPTIM: poison(&c, "optim.m.fc.bias", 1, -INFINITY); break;
        case E_EXTRA: c.t[c.nt++] = extra; break;
        case E_OPTIMIZER: set_meta(&c, "optimizer", "sgd"); break;
        case E_STEP: set_meta(&c, "step", "12x"); break;
        case E_CHECKSUM:
            memcpy(flipped, tensor(&c, "dec.bias")->data, sizeof flipped);
            flipped[2] = nextafterf(flipped[2], 1.0f);
            tensor(&c, "dec.bias")->data = flipped;
            break;
        }
        char name[64], want[512], what[160];
        snprintf(name, sizeof name, "%s.st", cases[k].name);
        const char *path = file(name);
        vkvae_error e = { 0 };
        if (vkvae_st_write(path, c.t, c.nt, c.m, c.nm, &e)) {
            printf("  write %s: %s\n", path, e.message);
            failures++;
            continue;
        }
        vkvae_cpu *b = fresh(&plan, 0);
        target tb = { b, 0 };
        vkvae_train_state got = { 0 };
        vkvae_status s = vkvae_checkpoint_load(path, &plan, write_cb, &tb, &got, cases[k].with_optimizer, &e);
        if (k == E_SPEC) {
            check(s == VKVAE_OK && got.spec_differs && same_state(a, b), "LOAD(spec text differs) allowed, flagged");
        } else {
            snprintf(want, sizeof want, cases[k].fmt, path);
            snprintf(what, sizeof what, "REJECT(%s%s) before any write", cases[k].name,
                     cases[k].with_optimizer ? "" : ",weights only");
            /* The checksum case's message goes on with the two CRCs. */
            int said = k == E_CHECKSUM ? strncmp(e.message, want, strlen(want)) == 0
                                       : strcmp(e.message, want) == 0;
            check(s == VKVAE_BAD_INPUT && said && tb.writes == 0 && all_zero(b, T_P_ALL) &&
                      all_zero(b, T_M),
                  what);
            printf("  %s\n", e.message);
            if (!said)
                printf("  want %s\n", want);
        }
        vkvae_cpu_destroy(b);
    }
    vkvae_st_destroy(&f);

    /* Without optimizer state, a missing moment, another optimizer's or
     * corrupt moments do not matter. */
    for (int k = E_MISSING_OPTIM; k <= E_OPTIMIZER; k++) {
        if (k != E_MISSING_OPTIM && k != E_INF_OPTIM && k != E_OPTIMIZER)
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s.st", cases[k].name);
        vkvae_cpu *b = fresh(&plan, 0);
        target tb = { b, 0 };
        vkvae_error e = { 0 };
        char what[96];
        snprintf(what, sizeof what, "LOAD(%s, weights only) allowed", cases[k].name);
        check(vkvae_checkpoint_load(file(name), &plan, write_cb, &tb, NULL, 0, &e) == VKVAE_OK &&
                  same_bits(a, b, T_P_ALL) && all_zero(b, T_M),
              what);
        vkvae_cpu_destroy(b);
    }

    /* Trailing bytes: the safetensors reader's structural check, named. */
    FILE *in = fopen(good, "rb"), *out = fopen(trail, "wb");
    int ch;
    while (in && out && (ch = fgetc(in)) != EOF)
        fputc(ch, out);
    if (out)
        fputs("garbage", out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    vkvae_cpu *b = fresh(&plan, 0);
    target tb = { b, 0 };
    vkvae_error e = { 0 };
    check(vkvae_checkpoint_load(trail, &plan, write_cb, &tb, NULL, 1, &e) == VKVAE_BAD_INPUT &&
              strstr(e.message, trail) && tb.writes == 0,
          "REJECT(trailing bytes)");
    printf("  %s\n", e.message);
    vkvae_error e2 = { 0 };
    check(vkvae_checkpoint_load(file("absent.st"), &plan, write_cb, &tb, NULL, 1, &e2) == VKVAE_IO &&
              strstr(e2.message, "absent.st") && tb.writes == 0,
          "REJECT(no such file) IO");
    printf("  %s\n", e2.message);
    vkvae_cpu_destroy(b);
    vkvae_cpu_destroy(a);
}

static void test_sgd(void)
{
    vkvae_step_desc steps[sizeof train_steps / sizeof *train_steps];
    memcpy(steps, train_steps, sizeof steps);
    size_t last = sizeof steps / sizeof *steps - 1;
    steps[last] = (vkvae_step_desc)STEP(SGD, T_P_ALL, T_G_ALL, T_M), .p = { .in = 256, .lr = 0.1f, .momentum = 0.9f } };
    vkvae_program_desc prog = { VKVAE_PROGRAM_TRAIN, "train", (uint32_t)last + 1, steps };
    vkvae_plan p = plan;
    p.programs = &prog;
    p.spec_text = NULL;
    vkvae_cpu *a = fresh(&p, SEED), *straight = fresh(&p, SEED);
    run(a, 0, 3);
    run(straight, 0, 6);
    target ta = { a, 0 };
    vkvae_error err = { 0 };
    vkvae_train_state st = { .step = 3, .seed = SEED };
    vkvae_status s = vkvae_checkpoint_save(file("sgd.st"), &p, read_cb, &ta, &st, &err);
    vkvae_safetensors f = { 0 };
    if (!s)
        s = vkvae_st_read(&f, file("sgd.st"), &err);
    vkvae_cpu *b = fresh(&p, 0);
    target tb = { b, 0 };
    if (!s)
        s = vkvae_checkpoint_load(file("sgd.st"), &p, write_cb, &tb, NULL, 1, &err);
    if (s)
        printf("  %s\n", err.message);
    run(b, 3, 6);
    const vkvae_st_tensor *mom = vkvae_st_find(&f, "optim.momentum.dec.weight");
    int no_spec = 1;
    for (size_t i = 0; i < f.meta_count; i++)
        no_spec &= strcmp(f.meta[i].key, "spec") != 0;
    check(s == VKVAE_OK && f.tensor_count == 8 && mom && mom->ndim == 2 && mom->shape[0] == IN &&
              vkvae_st_find(&f, "optim.m.fc.weight") == NULL && no_spec &&
              same_bits(straight, b, T_P_ALL) && same_bits(straight, b, T_M),
          "SGD(momentum 0.9) optim.momentum.* saved; 3+3 steps = 6 bit for bit; no spec key");
    vkvae_st_destroy(&f);

    /* A checkpoint of the Adam plan does not resume the SGD one. */
    vkvae_error e2 = { 0 };
    vkvae_cpu *c = fresh(&p, 0);
    target tc = { c, 0 };
    char want[256];
    snprintf(want, sizeof want, "%s holds adam state, this plan trains with sgd", file("good.st"));
    check(vkvae_checkpoint_load(file("good.st"), &p, write_cb, &tc, NULL, 1, &e2) == VKVAE_BAD_INPUT &&
              strcmp(e2.message, want) == 0 && tc.writes == 0,
          "REJECT(adam checkpoint into sgd plan)");
    printf("  %s\n", e2.message);
    vkvae_cpu_destroy(a);
    vkvae_cpu_destroy(b);
    vkvae_cpu_destroy(c);
    vkvae_cpu_destroy(straight);
}

/* vkvae_checkpoint_export: the parameters alone, bytes and metadata kept,
 * "optimizer" "none"; it loads for inference, not to resume. */
static void test_export(void)
{
    vkvae_cpu *a = fresh(&plan, SEED);
    run(a, 0, 4);
    target ta = { a, 0 };
    vkvae_error err = { 0 };
    vkvae_train_state st = { .epoch = 1, .step = 4, .seed = SEED };
    vkvae_status s = vkvae_checkpoint_save(file("full.st"), &plan, read_cb, &ta, &st, &err);
    if (!s)
        s = vkvae_checkpoint_export(file("full.st"), file("weights.st"), &plan, &err);
    vkvae_safetensors full = { 0 }, w = { 0 };
    if (!s)
        s = vkvae_st_read(&full, file("full.st"), &err);
    if (!s)
        s = vkvae_st_read(&w, file("weights.st"), &err);
    if (s)
        printf("  %s\n", err.message);
    int same = !s && w.tensor_count > 0, params = 0;
    for (size_t i = 0; same && i < full.tensor_count; i++) {
        const vkvae_st_tensor *t = &full.tensors[i], *u = vkvae_st_find(&w, t->name);
        if (strncmp(t->name, "optim.", 6) == 0) {
            same = u == NULL;
            continue;
        }
        params++;
        same = u && u->dtype == t->dtype && u->ndim == t->ndim &&
               memcmp(u->shape, t->shape, sizeof t->shape) == 0 &&
               u->end - u->begin == t->end - t->begin &&
               memcmp(u->data, t->data, t->end - t->begin) == 0;
    }
    const char *keys[] = { "format", "model", "spec", "epoch", "step", "seed" };
    for (size_t k = 0; same && k < sizeof keys / sizeof *keys; k++) {
        const char *x = NULL, *y = NULL;
        for (size_t i = 0; i < full.meta_count; i++)
            x = strcmp(full.meta[i].key, keys[k]) == 0 ? full.meta[i].value : x;
        for (size_t i = 0; i < w.meta_count; i++)
            y = strcmp(w.meta[i].key, keys[k]) == 0 ? w.meta[i].value : y;
        same = x && y && strcmp(x, y) == 0;
    }
    for (size_t i = 0; same && i < w.meta_count; i++)
        if (strcmp(w.meta[i].key, "optimizer") == 0)
            same = strcmp(w.meta[i].value, "none") == 0;
    check(same && (size_t)params == w.tensor_count,
          "EXPORT(tiny_ae) the parameters' bytes and shapes, no optim.*, metadata kept");
    vkvae_st_destroy(&full);
    vkvae_st_destroy(&w);

    vkvae_cpu *b = fresh(&plan, 0);
    target tb = { b, 0 };
    vkvae_train_state got = { 0 };
    s = vkvae_checkpoint_load(file("weights.st"), &plan, write_cb, &tb, &got, 0, &err);
    check(s == VKVAE_OK && same_bits(a, b, T_P_ALL) && got.step == 4 && got.epoch == 1,
          "LOAD(export, without optimizer) the parameters and the position");
    vkvae_error e2 = { 0 };
    char want[256];
    snprintf(want, sizeof want, "%s holds no optimizer state, this plan trains with adam",
             file("weights.st"));
    tb.writes = 0;
    check(vkvae_checkpoint_load(file("weights.st"), &plan, write_cb, &tb, NULL, 1, &e2) ==
                  VKVAE_BAD_INPUT && strcmp(e2.message, want) == 0 && tb.writes == 0,
          "REJECT(export, to resume)");
    printf("  %s\n", e2.message);
    vkvae_error e3 = { 0 };
    check(vkvae_checkpoint_export(file("no_such.st"), file("none.st"), &plan, &e3) == VKVAE_IO &&
              access(file("none.st"), F_OK) != 0,
          "EXPORT(no such file) IO, nothing written");
    printf("  %s\n", e3.message);
    vkvae_cpu_destroy(a);
    vkvae_cpu_destroy(b);
}

static void test_bad_plan(void)
{
    /* Two parameters that overlap: no checkpoint can name them apart. */
    vkvae_tensor_desc t[T_TINY_COUNT] = { TINY_TENSORS };
    t[T_FC_B].offset = 64;
    vkvae_plan p = plan;
    p.tensors = t;
    vkvae_error err = { 0 };
    char want[256];
    snprintf(want, sizeof want, "%s: plan 'tiny_ae': parameters fc.weight and fc.bias overlap", file("x.st"));
    check(vkvae_checkpoint_save(file("x.st"), &p, read_cb, NULL, NULL, &err) == VKVAE_BAD_INPUT &&
              strcmp(err.message, want) == 0 && access(file("x.st"), F_OK) != 0,
          "SAVE(overlapping parameters) refused");
    printf("  %s\n", err.message);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/vkvae-ckpt-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    test_round_trip();
    test_resume();
    test_rejections();
    test_sgd();
    test_export();
    test_bad_plan();
    static const char *const made[] = { "a.st", "resume.st", "good.st", "no_format.st", "format.st",
        "model.st", "spec.st", "missing.st", "missing_optim.st", "shape.st", "rank.st", "dtype.st",
        "nan.st", "inf_optim.st", "extra.st", "optimizer.st", "step.st", "trailing.st", "sgd.st",
        "full.st", "weights.st" };
    for (size_t i = 0; i < sizeof made / sizeof *made; i++)
        remove(file(made[i]));
    rmdir(dir);
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures != 0;
}
