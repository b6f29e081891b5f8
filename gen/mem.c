/* The generator's memory. vkvae-gen is a short-lived process and frees
 * little on purpose, so every block is linked into one list: the memory
 * stays reachable until exit (LeakSanitizer reports nothing in the
 * sanitized build, .ci/sanitize) and gen_free_all() releases all of it at
 * once (the spec fuzz target calls it after each input). Blocks carry the
 * list links in a header in front of the pointer handed out; xfree, never
 * free, releases one. Exhaustion exits cleanly with status 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

typedef union block {
    struct {
        union block *prev, *next;
    } link;
    max_align_t align; /* what follows the header is aligned as malloc's is */
} block;

static block all = { .link = { &all, &all } };

static void out_of_memory(void)
{
    fputs("vkvae-gen: error: out of memory\n", stderr);
    exit(1);
}

static void *attach(block *b)
{
    b->link.prev = &all;
    b->link.next = all.link.next;
    all.link.next->link.prev = b;
    all.link.next = b;
    return b + 1;
}

static void detach(block *b)
{
    b->link.prev->link.next = b->link.next;
    b->link.next->link.prev = b->link.prev;
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
    block *b = (block *)p - 1;
    detach(b);
    block *nb = realloc(b, sizeof(block) + (n ? n : 1));
    if (!nb)
        out_of_memory();
    return attach(nb);
}

void xfree(void *p)
{
    if (!p)
        return;
    block *b = (block *)p - 1;
    detach(b);
    free(b);
}

void gen_free_all(void)
{
    while (all.link.next != &all) {
        block *b = all.link.next;
        detach(b);
        free(b);
    }
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
