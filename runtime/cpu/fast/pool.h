/* A small persistent thread pool for the fast CPU backend: the calling
 * thread plus threads - 1 workers. A job has one part per thread, and each
 * part runs exactly once on whichever thread claims it first (a busy
 * machine's descheduled worker does not hold the caller up). Between jobs
 * a worker spins briefly (a train step's ops follow each other within
 * microseconds), then sleeps on a condition variable, so an idle process
 * does not burn the cores.
 *
 *   vkvae_pool *pool;
 *   if (vkvae_pool_create(0, &pool, &err)) return err.status;   // 0: the CPUs
 *   vkvae_pool_run(pool, fn, arg);   // fn(arg, part, parts), part 0 here
 *   vkvae_pool_destroy(pool);
 */
#ifndef VKVAE_CPU_POOL_H
#define VKVAE_CPU_POOL_H

#include <stdint.h>

#include "error.h"

typedef struct vkvae_pool vkvae_pool;

/* One part of a job: parts is the pool's thread count, part < parts. */
typedef void (*vkvae_pool_fn)(void *arg, uint32_t part, uint32_t parts);

/* threads 0: $VKVAE_CPU_THREADS if set, else the online CPUs (at most 16). */
vkvae_status vkvae_pool_create(uint32_t threads, vkvae_pool **out, vkvae_error *err);
void vkvae_pool_destroy(vkvae_pool *pool); /* NULL is fine */
uint32_t vkvae_pool_threads(const vkvae_pool *pool);

/* Runs fn(arg, part, parts) for every part, part 0 on the calling thread,
 * and returns when all are done. Not reentrant: one caller at a time. */
void vkvae_pool_run(vkvae_pool *pool, vkvae_pool_fn fn, void *arg);

/* [*begin, *end) of part's share of count items, in multiples of align
 * (the last part takes the remainder). */
void vkvae_pool_split(uint64_t count, uint64_t align, uint32_t part, uint32_t parts,
                      uint64_t *begin, uint64_t *end);

#endif
