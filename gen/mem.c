/* The generator's memory: one arena per compile. The generator frees little
 * on purpose, so every block of a compile is linked into that compile's
 * gen_arena (a header in front of the pointer handed out carries the
 * links) and gen_arena_free releases them all at once; xfree, never free,
 * releases one early, and a block stays in its arena when it grows.
 *
 * A driver (vkvae-gen's main, the spec fuzz target, a library entry
 * point) runs the compile through gen_try, which makes the arena current
 * through a _Thread_local pointer and restores the previous one when it
 * returns, so calls nest. The state is per call and per thread: two
 * threads can compile at once, and nothing outlives the call but what the
 * caller keeps in its arena until it frees it (copy out what must last
 * longer, as gen_plan_materialize does). Nothing here prints or exits:
 * exhaustion longjmps back into gen_try, which frees the arena and returns
 * false, and the driver reports it. A jump skips the stages' cleanup, so a
 * stage holds nothing but arena memory (no open FILE) across an
 * allocation. Allocating outside gen_try is a driver's bug (a debug
 * assertion says so).
 */
#include <assert.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

typedef union gen_block {
    struct {
        union gen_block *next;  /* the arena's next block, or NULL */
        union gen_block **pprev; /* what points here: a block's next or the arena's first */
    } link;
    max_align_t align; /* what follows the header is aligned as malloc's is */
} block;

typedef struct gen_call {
    jmp_buf jump;
    gen_arena *arena;
} gen_call;

static _Thread_local gen_call *current;

static _Noreturn void out_of_memory(void)
{
    assert(current && "the generator allocates only inside gen_try");
    longjmp(current->jump, 1);
}

bool gen_try(gen_arena *a, void (*fn)(void *ctx), void *ctx)
{
    gen_call call = { .arena = a };
    gen_call *outer = current;
    current = &call;
    if (setjmp(call.jump)) {
        current = outer;
        gen_arena_free(a);
        return false;
    }
    fn(ctx);
    current = outer;
    return true;
}

void gen_arena_free(gen_arena *a)
{
    while (a->first) {
        block *b = a->first;
        a->first = b->link.next;
        free(b);
    }
}

static void *attach(block *b)
{
    assert(current && "the generator allocates only inside gen_try");
    gen_arena *a = current->arena;
    b->link.next = a->first;
    b->link.pprev = &a->first;
    if (a->first)
        a->first->link.pprev = &b->link.next;
    a->first = b;
    return b + 1;
}

void *xmalloc(size_t n)
{
    if (n > SIZE_MAX - sizeof(block))
        out_of_memory();
    block *b = malloc(sizeof(block) + (n ? n : 1));
    if (!b)
        out_of_memory();
    return attach(b);
}

void *xrealloc(void *p, size_t n)
{
    if (!p)
        return xmalloc(n);
    if (n > SIZE_MAX - sizeof(block))
        out_of_memory();
    /* on failure the old block is untouched and still linked */
    block *b = realloc((block *)p - 1, sizeof(block) + (n ? n : 1));
    if (!b)
        out_of_memory();
    /* the links moved with the header: point the neighbours at the new place */
    *b->link.pprev = b;
    if (b->link.next)
        b->link.next->link.pprev = &b->link.next;
    return b + 1;
}

void xfree(void *p)
{
    if (!p)
        return;
    block *b = (block *)p - 1;
    *b->link.pprev = b->link.next;
    if (b->link.next)
        b->link.next->link.pprev = b->link.pprev;
    free(b);
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xprintf(const char *fmt, ...)
{
    /* never NULL; said here so that gcc's -Wformat-truncation, which sees
     * the path UBSan's nonnull check adds, knows it too */
    if (!fmt)
        fmt = "";
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory();
    char *p = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *grow_array(void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return arr;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            out_of_memory();
        c *= 2;
    }
    *cap = c;
    return xrealloc(arr, c * elem);
}
