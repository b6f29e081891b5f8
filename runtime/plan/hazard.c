/* Hazards between the steps of a program, and the barriers that order them.
 *
 * A step reads some of its bindings and writes others (vkvae_hazard_access,
 * read off the ops.def contracts: inputs are read, outputs written, and the
 * outputs an op accumulates into or updates in place, kl_gauss_bwd's and
 * iwae_logw_bwd's gradients, scale_rows' rows, loss_accum's sums, the
 * optimizers' parameters and moments, are both). A binding covers the bytes [offset, offset + elems * size) of its
 * tensor's buffer, size 1 for gather's u8 data and 4 for everything else.
 * Two steps conflict when one writes bytes the other reads or writes:
 * read-after-write, write-after-read or write-after-write; two reads never
 * conflict. Aliasing is caught because the comparison is on byte ranges of
 * buffers, never on tensor indices.
 *
 * step.barrier is one full compute->compute barrier before the step, and it
 * orders everything recorded before it against everything after. So a
 * conflict between steps i < j is ordered iff a barrier sits on one of the
 * steps i+1 .. j: it is an interval that some barrier must fall in. A cyclic
 * program (a training step recorded again and again) also has conflicts from
 * step i of one iteration to step j <= i of the next: the arc i+1 .. n-1,
 * 0 .. j, and a barrier on step 0 is then the barrier between iterations.
 *
 * Placement is the classic greedy for stabbing intervals: walk the steps in
 * order and put a barrier before a step exactly when it conflicts with a
 * step since the last barrier, i.e. as late as possible. Every barrier it
 * places ends an interval that no earlier barrier covers, and those intervals
 * are pairwise disjoint, so no placement does with fewer: the greedy set is
 * minimum, not just irredundant. On a cycle the greedy walk from step 0 can
 * be one barrier over the minimum, so when it leaves a hazard across the
 * iteration boundary we cut the cycle at each step r in turn (a barrier on
 * r, then the greedy walk from r) and keep the fewest, stopping early at the
 * straight walk's count, which no cyclic placement can beat.
 *
 * The check reports both ways: a conflict with no barrier between its steps,
 * and a barrier no conflict needs (one whose removal leaves every conflict
 * ordered by the others).
 */
#include "plan/hazard.h"

#include <stdio.h>

#include "plan/op_info.h"

unsigned vkvae_hazard_access(vkvae_op op, const vkvae_op_params *p, uint32_t b)
{
    if (b >= vkvae_op_bindings(op))
        return 0;
    if (!vkvae_op_binding(op, p, b).written)
        return VKVAE_HAZARD_READ;
    if (op == VKVAE_OP_NLL_GAUSS_BWD && b == 4 && p->mode == 0)
        return 0; /* a fixed variance (mode 0) has no gradient */
    if (vkvae_op_reads_outputs(op)) /* "+=" or in place */
        return VKVAE_HAZARD_READ | VKVAE_HAZARD_WRITE;
    return VKVAE_HAZARD_WRITE;
}

typedef struct span {
    uint32_t buffer;
    uint64_t lo, hi; /* bytes [lo, hi) */
    unsigned access;
} span;

static span binding_span(const vkvae_step_desc *s, uint32_t b, const vkvae_tensor_desc *tensors)
{
    const vkvae_tensor_desc *t = &tensors[s->tensors[b]];
    uint64_t size = vkvae_op_binding(s->op, &s->p, b).elem == VKVAE_ELEM_U8 ? 1 : 4;
    return (span){ t->buffer, t->offset, t->offset + t->elems * size, vkvae_hazard_access(s->op, &s->p, b) };
}

static uint32_t n_bindings(const vkvae_step_desc *s)
{
    uint32_t n = vkvae_op_bindings(s->op);
    return s->n_tensors < n ? s->n_tensors : n;
}

enum { RAW, WAW, WAR };

typedef struct hazard {
    int kind;
    uint32_t earlier, later; /* the tensors, as the two steps bind them */
} hazard;

/* Whether step b, run after step a, conflicts with it; h (may be NULL)
 * gets the first conflicting pair of bindings. */
static int conflict(const vkvae_step_desc *a, const vkvae_step_desc *b,
                    const vkvae_tensor_desc *tensors, hazard *h)
{
    for (uint32_t jb = 0; jb < n_bindings(b); jb++) {
        span y = binding_span(b, jb, tensors);
        for (uint32_t ia = 0; ia < n_bindings(a); ia++) {
            span x = binding_span(a, ia, tensors);
            if (!x.access || !y.access || !((x.access | y.access) & VKVAE_HAZARD_WRITE))
                continue;
            if (x.buffer != y.buffer || x.lo >= x.hi || y.lo >= y.hi || x.hi <= y.lo || y.hi <= x.lo)
                continue;
            if (h) {
                int x_writes = (x.access & VKVAE_HAZARD_WRITE) != 0;
                h->kind = x_writes && (y.access & VKVAE_HAZARD_READ) ? RAW : x_writes ? WAW : WAR;
                h->earlier = a->tensors[ia];
                h->later = b->tensors[jb];
            }
            return 1;
        }
    }
    return 0;
}

/* The greedy walk over the steps r, r+1, .., r+n-1 (mod n); forced: a
 * barrier on step r as well. Returns the number of barriers; write: stores
 * them in the steps. */
static uint32_t greedy(vkvae_step_desc *s, uint32_t n, const vkvae_tensor_desc *tensors,
                       uint32_t r, int forced, int write)
{
    uint32_t count = 0, open = 0; /* the walk's first step since the last barrier */
    for (uint32_t k = 0; k < n; k++) {
        vkvae_step_desc *j = &s[(r + k) % n];
        int need = k == 0 && forced;
        for (uint32_t q = open; q < k && !need; q++)
            need = conflict(&s[(r + q) % n], j, tensors, NULL);
        if (need)
            open = k, count++;
        if (write)
            j->barrier = (uint32_t)need;
    }
    return count;
}

/* Whether removing the barrier on step j would leave a conflict unordered:
 * one from the steps since the barrier before j into the steps up to the
 * barrier after it (around the cycle when cyclic). */
static int barrier_needed(const vkvae_step_desc *s, uint32_t n, const vkvae_tensor_desc *tensors,
                          int cyclic, uint32_t j)
{
    uint32_t before = 0, after = 1;
    for (uint32_t limit = cyclic ? n : j; before < limit;)
        if (s[(j + n - ++before) % n].barrier)
            break;
    while (after < (cyclic ? n : n - j) && !s[(j + after) % n].barrier)
        after++;
    for (uint32_t a = 1; a <= before; a++)
        for (uint32_t b = 0; b < after; b++)
            if (conflict(&s[(j + n - a) % n], &s[(j + b) % n], tensors, NULL))
                return 1;
    return 0;
}

/* Where the problem found after `problems` others goes: only the first is told. */
static char *tell(uint32_t problems, char *msg, size_t size)
{
    return problems == 0 && size ? msg : NULL;
}

static void describe(char *msg, size_t size, const char *program, const vkvae_step_desc *s,
                     const vkvae_tensor_desc *tensors, uint32_t i, uint32_t j, const hazard *h,
                     int across)
{
    static const char *const verb[] = { [RAW] = "reads", [WAW] = "writes", [WAR] = "writes" };
    static const char *const by[] = { [RAW] = "written", [WAW] = "also written", [WAR] = "read" };
    if (!msg)
        return;
    const char *later = tensors[h->later].name, *earlier = tensors[h->earlier].name;
    char alias[160] = "";
    if (h->later != h->earlier)
        snprintf(alias, sizeof alias, " (overlapping %s)", earlier ? earlier : "?");
    snprintf(msg, size, "%s step %u (%s) %s %s%s %s by step %u (%s)%s with no barrier between",
             program, j, vkvae_op_name(s[j].op), verb[h->kind], later ? later : "?", alias,
             by[h->kind], i, vkvae_op_name(s[i].op), across ? " of the previous iteration" : "");
}

/* Counts the problems of steps[0 .. n); the first goes to msg. */
static uint32_t scan(const vkvae_step_desc *s, uint32_t n, const vkvae_tensor_desc *tensors,
                     int cyclic, const char *program, char *msg, size_t size)
{
    uint32_t problems = 0, first = n, last = n, open = 0;
    for (uint32_t k = 0; k < n; k++)
        if (s[k].barrier) {
            first = first == n ? k : first;
            last = k;
        }
    for (uint32_t j = 0; j < n; j++) {
        hazard h;
        if (s[j].barrier)
            open = j;
        for (uint32_t i = j; i-- > open;)
            if (conflict(&s[i], &s[j], tensors, &h)) {
                describe(tell(problems, msg, size), size, program, s, tensors, i, j, &h, 0);
                problems++;
                break;
            }
        /* Into j from the previous iteration's steps after its last
         * barrier, when no barrier comes before j in this one. */
        if (cyclic && j < first)
            for (uint32_t i = n; i-- > (last == n ? j : last);)
                if (conflict(&s[i], &s[j], tensors, &h)) {
                    describe(tell(problems, msg, size), size, program, s, tensors, i, j, &h, 1);
                    problems++;
                    break;
                }
        if (s[j].barrier && !barrier_needed(s, n, tensors, cyclic, j)) {
            if (tell(problems, msg, size))
                snprintf(msg, size, "%s step %u has a barrier no hazard needs", program, j);
            problems++;
        }
    }
    return problems;
}

void vkvae_hazard_place_barriers(vkvae_step_desc *steps, uint32_t n,
                                 const vkvae_tensor_desc *tensors, int cyclic)
{
    if (n == 0)
        return;
    uint32_t straight = greedy(steps, n, tensors, 0, 0, 1);
    if (!cyclic || scan(steps, n, tensors, 1, "", NULL, 0) == 0)
        return;
    uint32_t best = straight + 1, best_r = 0;
    for (uint32_t r = 1; r < n && best > straight; r++) {
        uint32_t c = greedy(steps, n, tensors, r, 1, 0);
        if (c < best)
            best = c, best_r = r;
    }
    greedy(steps, n, tensors, best_r, 1, 1);
}

int vkvae_hazard_cyclic(vkvae_program_kind kind, int passes, int text)
{
    return kind == VKVAE_PROGRAM_TRAIN ||
           (passes && (kind == VKVAE_PROGRAM_SAMPLE || (text && kind == VKVAE_PROGRAM_DECODE)));
}

uint32_t vkvae_hazard_check(const vkvae_plan *plan, uint32_t program, int cyclic,
                            char *msg, size_t msg_size)
{
    if (msg && msg_size)
        msg[0] = '\0';
    if (program >= plan->n_programs) {
        if (msg && msg_size)
            snprintf(msg, msg_size, "plan '%s' has no program %u", plan->model, program);
        return 1;
    }
    const vkvae_program_desc *prog = &plan->programs[program];
    const char *name = prog->name ? prog->name : "?";
    for (uint32_t j = 0; j < prog->n_steps; j++) {
        const vkvae_step_desc *s = &prog->steps[j];
        uint32_t need = vkvae_op_bindings(s->op);
        if (s->n_tensors < need || s->n_tensors > VKVAE_MAX_BINDINGS) {
            if (msg && msg_size)
                snprintf(msg, msg_size, "%s step %u (%s) binds %u tensors, the op has %u",
                         name, j, vkvae_op_name(s->op), s->n_tensors, need);
            return 1;
        }
        for (uint32_t b = 0; b < s->n_tensors; b++)
            if (s->tensors[b] >= plan->n_tensors) {
                if (msg && msg_size)
                    snprintf(msg, msg_size, "%s step %u (%s) binds tensor %u, the plan has %u",
                             name, j, vkvae_op_name(s->op), s->tensors[b], plan->n_tensors);
                return 1;
            }
    }
    return scan(prog->steps, prog->n_steps, plan->tensors, cyclic, name, msg, msg_size);
}
