/* Barrier placement and the plan hazard check (runtime/plan/hazard.c) on small
 * hand-written programs: the 6-4-6 autoencoder's training step
 * (tests/cpu/tiny_plan.h), its variants with a barrier removed or added,
 * aliasing tensors, byte-sized data, and cyclic programs whose last steps
 * feed the next iteration's first. Every placement is also compared with a brute
 * force search over all barrier sets.
 */
#include <stdio.h>
#include <string.h>

#include "../cpu/tiny_plan.h"
#include "plan/hazard.h"
#include "plan/op_info.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("%s: %s\n", what, ok ? "ok" : "FAIL");
    failures += !ok;
}

enum { BUF_RING = TINY_BUF_COUNT };

/* The tensors of the tiny plan, then a few that alias them. */
enum {
    T_TAIL = T_TINY_COUNT, T_BELOW, T_DATA_AFTER, T_DATA_IN, T_R0, T_R1, T_R2, T_R3, T_R4, T_RIN, T_COUNT
};
static const vkvae_tensor_desc tensors[] = {
    TINY_TENSORS,
    [T_TAIL] = { "act.tail", BUF_ACT, 1024, 128, 1, { 128 } },     /* bytes 1024..1536: kl, dlogits */
    [T_BELOW] = { "act.below", BUF_ACT, 1024, 64, 1, { 64 } },     /* bytes 1024..1280: ends at dlogits */
    [T_DATA_AFTER] = { "data.after", BUF_DATA, 64, 4, 1, { 4 } },  /* after the 60 image bytes */
    [T_DATA_IN] = { "data.in", BUF_DATA, 32, 4, 1, { 4 } },        /* inside them */
    [T_R0] = { "r0", BUF_RING, 0, 4, 1, { 4 } },
    [T_R1] = { "r1", BUF_RING, 256, 4, 1, { 4 } },
    [T_R2] = { "r2", BUF_RING, 512, 4, 1, { 4 } },
    [T_R3] = { "r3", BUF_RING, 768, 4, 1, { 4 } },
    [T_R4] = { "r4", BUF_RING, 1024, 4, 1, { 4 } },
    [T_RIN] = { "ring.in", BUF_RING, 1280, 4, 1, { 4 } },
};
_Static_assert(sizeof tensors / sizeof *tensors == T_COUNT, "tensor table out of step");

#define SIG(x, y) STEP(SIGMOID, x, y), .p = { .n = 1, .in = 4 } }

/* The tiny plan's training step, barriers unset. */
static const vkvae_step_desc train[] = { TINY_TRAIN_STEPS };
enum { N_TRAIN = sizeof train / sizeof *train };

static uint32_t check_steps(const char *name, const vkvae_step_desc *steps, uint32_t n, int cyclic,
                            char *msg, size_t size)
{
    vkvae_program_desc prog = { VKVAE_PROGRAM_TRAIN, name, n, steps };
    vkvae_plan plan = { .model = "tiny_ae", .n_tensors = T_COUNT, .tensors = tensors,
                        .n_programs = 1, .programs = &prog };
    return vkvae_hazard_check(&plan, 0, cyclic, msg, size);
}

static const char *flags(const vkvae_step_desc *s, uint32_t n)
{
    static char f[64];
    for (uint32_t i = 0; i < n; i++)
        f[i] = s[i].barrier ? '1' : '0';
    f[n] = '\0';
    return f;
}

/* Places barriers on a copy of steps; expects the flags `want`, a clean
 * check, and no smaller barrier set passing the check (brute force). */
static void place(const char *name, const vkvae_step_desc *steps, uint32_t n, int cyclic, const char *want)
{
    vkvae_step_desc s[16];
    memcpy(s, steps, n * sizeof *s);
    vkvae_hazard_place_barriers(s, n, tensors, cyclic);
    char msg[256], what[256];
    uint32_t problems = check_steps(name, s, n, cyclic, msg, sizeof msg), placed = 0, fewest = n + 1;
    for (uint32_t i = 0; i < n; i++)
        placed += s[i].barrier;
    for (uint32_t set = 0; set < 1u << n; set++) {
        uint32_t count = 0;
        for (uint32_t i = 0; i < n; i++)
            count += s[i].barrier = set >> i & 1;
        if (count < fewest && check_steps(name, s, n, cyclic, NULL, 0) == 0)
            fewest = count;
    }
    vkvae_hazard_place_barriers(s, n, tensors, cyclic);
    snprintf(what, sizeof what, "PLACE(%s,%s) %s, %u barriers, fewest possible %u", name,
             cyclic ? "cyclic" : "once", flags(s, n), placed, fewest);
    check(strcmp(flags(s, n), want) == 0 && problems == 0 && placed == fewest, what);
    if (problems)
        printf("  %s\n", msg);
}

/* Checks steps with the barriers `bits` and expects `want_problems` and,
 * when there are some, the first message. */
static void expect(const char *what, const char *name, const vkvae_step_desc *steps, uint32_t n,
                   int cyclic, const char *bits, uint32_t want_problems, const char *want_msg)
{
    vkvae_step_desc s[16];
    memcpy(s, steps, n * sizeof *s);
    for (uint32_t i = 0; i < n; i++)
        s[i].barrier = bits[i] == '1';
    char msg[256], line[512];
    uint32_t problems = check_steps(name, s, n, cyclic, msg, sizeof msg);
    snprintf(line, sizeof line, "CHECK(%s,%s) %s: %u problems", what, cyclic ? "cyclic" : "once", bits,
             problems);
    check(problems == want_problems && (want_problems == 0 ? msg[0] == '\0' : strcmp(msg, want_msg) == 0), line);
    if (problems)
        printf("  %s\n", msg);
}

static void test_access(void)
{
    vkvae_op_params p = { .n = 2, .in = 3 };
    enum { R = VKVAE_HAZARD_READ, W = VKVAE_HAZARD_WRITE };
    static const struct {
        vkvae_op op;
        uint32_t mode, b;
        unsigned want;
    } cases[] = {
        { VKVAE_OP_DENSE, 0, 0, R }, { VKVAE_OP_DENSE, 0, 3, W }, { VKVAE_OP_DENSE, 0, 4, 0 },
        { VKVAE_OP_DENSE_BWD_W, 0, 3, W }, { VKVAE_OP_KL_GAUSS_BWD, 0, 1, R },
        { VKVAE_OP_KL_GAUSS_BWD, 0, 2, R | W }, { VKVAE_OP_KL_GAUSS_BWD, 0, 3, R | W },
        { VKVAE_OP_LOSS_ACCUM, 0, 2, R | W }, { VKVAE_OP_ADAM, 0, 0, R | W },
        { VKVAE_OP_ADAM, 0, 1, R }, { VKVAE_OP_ADAM, 0, 3, R | W }, { VKVAE_OP_SGD, 0, 0, R | W },
        { VKVAE_OP_SGD, 0, 2, R | W }, { VKVAE_OP_NLL_GAUSS_BWD, 0, 4, 0 },
        { VKVAE_OP_NLL_GAUSS_BWD, 1, 4, W }, { VKVAE_OP_NLL_GAUSS_BWD, 2, 3, W },
        { VKVAE_OP_PRIOR, 0, 0, W }, { VKVAE_OP_REPARAM, 0, 3, W },
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        p.mode = cases[i].mode;
        unsigned got = vkvae_hazard_access(cases[i].op, &p, cases[i].b);
        if (got != cases[i].want) {
            printf("  %s mode %u binding %u: access %u, want %u\n", vkvae_op_name(cases[i].op),
                   cases[i].mode, cases[i].b, got, cases[i].want);
            ok = 0;
        }
    }
    check(ok, "ACCESS(inputs read, outputs written, accumulators and optimizer state both)");
}

static void test_train(void)
{
    const char *placed = "01111010111";
    place("train", train, N_TRAIN, 0, placed);
    /* Gather (first) and Adam (last) share nothing: no barrier between iterations. */
    place("train", train, N_TRAIN, 1, placed);
    expect("placed", "train", train, N_TRAIN, 1, placed, 0, "");
    expect("none", "train", train, N_TRAIN, 0, "00000000000", 10,
           "train step 1 (dense) reads x written by step 0 (gather) with no barrier between");
    expect("removed", "train", train, N_TRAIN, 0, "01111010011", 1,
           "train step 8 (act_bwd) reads dh written by step 7 (dense_bwd_x) with no barrier between");
    expect("removed", "train", train, N_TRAIN, 0, "01111010110", 1,
           "train step 10 (adam) reads grads.all (overlapping fc.weight.grad) written by step 9 (dense_bwd_w) with no barrier between");
    expect("extra", "train", train, N_TRAIN, 0, "01111110111", 1, "train step 5 has a barrier no hazard needs");
    expect("extra", "train", train, N_TRAIN, 0, "11111010111", 1, "train step 0 has a barrier no hazard needs");
    expect("extra", "train", train, N_TRAIN, 1, "11111010111", 1, "train step 0 has a barrier no hazard needs");
    expect("moved", "train", train, N_TRAIN, 0, "01111001111", 1,
           "train step 6 (dense_bwd_w) reads dlogits written by step 5 (nll_bernoulli_bwd) with no barrier between");
}

static void test_alias(void)
{
    const vkvae_step_desc raw[] = { SIG(T_LOGITS, T_DLOGITS), SIG(T_TAIL, T_DH) };
    place("alias", raw, 2, 0, "01");
    expect("alias", "alias", raw, 2, 0, "00", 1,
           "alias step 1 (sigmoid) reads act.tail (overlapping dlogits) written by step 0 (sigmoid) with no barrier between");
    /* act.below ends where dlogits starts: adjacent, not overlapping. */
    const vkvae_step_desc adjacent[] = { SIG(T_LOGITS, T_DLOGITS), SIG(T_BELOW, T_DH) };
    place("adjacent", adjacent, 2, 0, "00");
    const vkvae_step_desc war[] = { SIG(T_LOGITS, T_DH), SIG(T_X, T_LOGITS) };
    expect("war", "war", war, 2, 0, "00", 1,
           "war step 1 (sigmoid) writes logits read by step 0 (sigmoid) with no barrier between");
    const vkvae_step_desc waw[] = { SIG(T_X, T_DH), SIG(T_LOGITS, T_DH) };
    expect("waw", "waw", waw, 2, 0, "00", 1,
           "waw step 1 (sigmoid) writes dh also written by step 0 (sigmoid) with no barrier between");
    const vkvae_step_desc reads[] = { SIG(T_X, T_DH), SIG(T_X, T_LOGITS) };
    place("reads", reads, 2, 0, "00");
    /* Gather's data is bytes: 60 images bytes end before byte 64, not at 240. */
    const vkvae_step_desc bytes[] = { SIG(T_X, T_DATA_AFTER),
                                      STEP(GATHER, T_IMAGES, T_PERM, T_H), .p = { .n = B, .in = IN } } };
    place("bytes", bytes, 2, 0, "00");
    const vkvae_step_desc inside[] = { SIG(T_X, T_DATA_IN),
                                       STEP(GATHER, T_IMAGES, T_PERM, T_H), .p = { .n = B, .in = IN } } };
    place("inside", inside, 2, 0, "01");
}

static void test_cyclic(void)
{
    /* The training step without its gather: Adam's parameters, written
     * last, are read by the first dense of the next iteration. */
    const vkvae_step_desc *head = train + 1;
    place("step", head, N_TRAIN - 1, 0, "0111010111");
    place("step", head, N_TRAIN - 1, 1, "1111010111");
    expect("boundary", "step", head, N_TRAIN - 1, 1, "0111010111", 1,
           "step step 0 (dense) reads fc.weight (overlapping params.all) written by step 9 (adam) of the previous iteration with no barrier between");
    expect("boundary", "step", head, N_TRAIN - 1, 0, "0111010111", 0, "");

    /* Conflicts 0-2, 2-4 and 1-4 only: the walk from step 0 puts barriers
     * on 2 and 4 and then needs one on 0 too; 1 and 4 (or 1 and 3) cover
     * all three and the iteration boundary. */
    const vkvae_step_desc ring[] = { SIG(T_RIN, T_R0), SIG(T_R4, T_R1), SIG(T_R0, T_R2), SIG(T_RIN, T_R3),
                                     SIG(T_R2, T_R4) };
    place("ring", ring, 5, 0, "00101");
    place("ring", ring, 5, 1, "01001");
    expect("ring", "ring", ring, 5, 1, "00101", 1,
           "ring step 1 (sigmoid) reads r4 written by step 4 (sigmoid) of the previous iteration with no barrier between");
    /* Every step writes, so it conflicts with itself one iteration on. */
    const vkvae_step_desc one[] = { SIG(T_X, T_H) };
    place("one", one, 1, 0, "0");
    place("one", one, 1, 1, "1");
    expect("one", "one", one, 1, 1, "0", 1,
           "one step 0 (sigmoid) writes h also written by step 0 (sigmoid) of the previous iteration with no barrier between");
}

static void test_bad(void)
{
    vkvae_step_desc s[] = { STEP(DENSE, T_X, T_FC_W, T_H), .p = { .n = B } }, SIG(T_X, 99) };
    char msg[256];
    uint32_t problems = check_steps("bad", s, 1, 0, msg, sizeof msg);
    check(problems == 1 && strcmp(msg, "bad step 0 (dense) binds 3 tensors, the op has 4") == 0, "CHECK(bad bindings)");
    printf("  %s\n", msg);
    problems = check_steps("bad", s + 1, 1, 0, msg, sizeof msg);
    check(problems == 1 && strcmp(msg, "bad step 0 (sigmoid) binds tensor 99, the plan has 33") == 0, "CHECK(bad tensor)");
    printf("  %s\n", msg);
}

int main(void)
{
    test_access();
    test_train();
    test_alias();
    test_cyclic();
    test_bad();
    printf("%s\n", failures ? "FAILED" : "all passed");
    return failures != 0;
}
