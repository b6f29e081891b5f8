/* The fast CPU backend's thread pool (pool.h). A job is split into as many
 * parts as the pool has threads, and every thread, the caller included,
 * claims parts from one atomic word until none is left: the job's number
 * in the high 32 bits, the next unclaimed part in the low 32. A claim is a
 * compare-and-swap on that word, so it succeeds only for the job that is
 * current, and a job's fn and arg stay put until all its parts are done,
 * which cannot happen before a claimed part finishes. On a busy machine,
 * when a worker is not scheduled, the caller simply claims its part too
 * instead of waiting for it.
 *
 * Waiting (a worker for the next job, the caller for the last part) is a
 * short spin (SPIN_NS) and then a condition variable: the waiter announces
 * itself (sleepers, or main_waits) before re-checking its condition under
 * the mutex, and the other side checks the announcement after its own
 * sequentially consistent update, so at least one of the two sees the
 * other and no wake-up is lost.
 */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 64, DEFAULT_MAX = 16 };
#define SPIN_NS 20000 /* 20 us: longer than the gap between two jobs of a step */

struct vkvae_pool {
    uint32_t threads; /* including the caller */
    pthread_t *workers;
    uint32_t started;
    pthread_mutex_t mu;
    pthread_cond_t wake, finished;
    atomic_uint_fast64_t job; /* job number << 32 | next part to claim */
    atomic_uint done;         /* parts of the current job finished */
    atomic_uint sleepers;
    atomic_int main_waits;
    atomic_int quit;
    vkvae_pool_fn fn;
    void *arg;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t job_of(uint64_t word)
{
    return (uint32_t)(word >> 32);
}

/* Spins up to SPIN_NS while the job number is still job; 1 if it changed. */
static int spin_while_job(atomic_uint_fast64_t *word, uint32_t job)
{
    uint64_t start = 0;
    for (uint32_t i = 1;; i++) {
        if (job_of(atomic_load_explicit(word, memory_order_acquire)) != job)
            return 1;
        cpu_relax();
        if (i % 64 == 0) {
            uint64_t t = now_ns();
            if (!start)
                start = t;
            else if (t - start > SPIN_NS)
                return 0;
        }
    }
}

static int spin_until_uint(atomic_uint *word, unsigned value)
{
    uint64_t start = 0;
    for (uint32_t i = 1;; i++) {
        if (atomic_load_explicit(word, memory_order_acquire) == value)
            return 1;
        cpu_relax();
        if (i % 64 == 0) {
            uint64_t t = now_ns();
            if (!start)
                start = t;
            else if (t - start > SPIN_NS)
                return 0;
        }
    }
}

/* Claims and runs parts of job number job until none is left. */
static void claim_parts(vkvae_pool *pool, uint32_t job)
{
    uint64_t v = atomic_load(&pool->job);
    while (job_of(v) == job && (uint32_t)v < pool->threads) {
        if (!atomic_compare_exchange_weak(&pool->job, &v, v + 1))
            continue; /* v now holds the word's current value */
        pool->fn(pool->arg, (uint32_t)v, pool->threads);
        unsigned done = atomic_fetch_add(&pool->done, 1) + 1;
        if (done == pool->threads && atomic_load(&pool->main_waits)) {
            pthread_mutex_lock(&pool->mu);
            pthread_cond_signal(&pool->finished);
            pthread_mutex_unlock(&pool->mu);
        }
        v = atomic_load(&pool->job);
    }
}

static void *worker_main(void *p)
{
    vkvae_pool *pool = p;
    uint32_t seen = 0;
    for (;;) {
        if (!spin_while_job(&pool->job, seen)) {
            pthread_mutex_lock(&pool->mu);
            atomic_fetch_add(&pool->sleepers, 1);
            while (job_of(atomic_load(&pool->job)) == seen)
                pthread_cond_wait(&pool->wake, &pool->mu);
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mu);
        }
        seen = job_of(atomic_load(&pool->job));
        if (atomic_load(&pool->quit))
            return NULL;
        claim_parts(pool, seen);
    }
}

static uint32_t default_threads(void)
{
    const char *env = getenv("VKVAE_CPU_THREADS");
    if (env && *env) {
        char *end;
        unsigned long v = strtoul(env, &end, 10);
        if (!*end && v >= 1)
            return v > MAX_THREADS ? MAX_THREADS : (uint32_t)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > DEFAULT_MAX ? DEFAULT_MAX : (uint32_t)n;
}

/* Wakes sleeping workers after a change they wait for (job or quit). */
static void wake_workers(vkvae_pool *pool)
{
    if (atomic_load(&pool->sleepers)) {
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
    }
}

vkvae_status vkvae_pool_create(uint32_t threads, vkvae_pool **out, vkvae_error *err)
{
    *out = NULL;
    vkvae_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu pool: out of memory");
    pool->threads = threads ? (threads > MAX_THREADS ? MAX_THREADS : threads) : default_threads();
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->finished, NULL);
    atomic_init(&pool->job, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->sleepers, 0);
    atomic_init(&pool->main_waits, 0);
    atomic_init(&pool->quit, 0);
    pool->workers = calloc(pool->threads, sizeof *pool->workers);
    if (!pool->workers) {
        vkvae_pool_destroy(pool);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "cpu pool: out of memory");
    }
    for (uint32_t i = 1; i < pool->threads; i++) {
        if (pthread_create(&pool->workers[i - 1], NULL, worker_main, pool) != 0) {
            /* Fewer threads than asked: run with those that started (they
             * read threads only in a job, published after this store). */
            pool->threads = i;
            break;
        }
        pool->started = i;
    }
    *out = pool;
    return VKVAE_OK;
}

void vkvae_pool_destroy(vkvae_pool *pool)
{
    if (!pool)
        return;
    if (pool->started) {
        atomic_store(&pool->quit, 1);
        atomic_fetch_add(&pool->job, (uint64_t)1 << 32);
        pthread_mutex_lock(&pool->mu);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mu);
        for (uint32_t i = 0; i < pool->started; i++)
            pthread_join(pool->workers[i], NULL);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->finished);
    free(pool->workers);
    free(pool);
}

uint32_t vkvae_pool_threads(const vkvae_pool *pool)
{
    return pool->threads;
}

void vkvae_pool_run(vkvae_pool *pool, vkvae_pool_fn fn, void *arg)
{
    if (pool->threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->done, 0);
    uint32_t job = job_of(atomic_load(&pool->job)) + 1;
    atomic_store(&pool->job, (uint64_t)job << 32); /* publishes fn and arg */
    wake_workers(pool);
    claim_parts(pool, job);
    unsigned want = pool->threads;
    if (!spin_until_uint(&pool->done, want)) {
        pthread_mutex_lock(&pool->mu);
        atomic_store(&pool->main_waits, 1);
        while (atomic_load(&pool->done) != want)
            pthread_cond_wait(&pool->finished, &pool->mu);
        atomic_store(&pool->main_waits, 0);
        pthread_mutex_unlock(&pool->mu);
    }
}

void vkvae_pool_split(uint64_t count, uint64_t align, uint32_t part, uint32_t parts,
                      uint64_t *begin, uint64_t *end)
{
    if (align < 1)
        align = 1;
    uint64_t units = (count + align - 1) / align;
    uint64_t b = units * part / parts * align, e = units * (part + 1) / parts * align;
    *begin = b < count ? b : count;
    *end = e < count ? e : count;
}
