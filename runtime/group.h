/* A group of processes training one model together (data parallel): each
 * runs a session of the same plan on its slice of every global batch, and
 * the group sums what must agree (gradients before each optimizer step,
 * loss totals, codebook counts) across them. The library never calls MPI:
 * the command line brings an MPI group (cli/group_mpi.c), an application
 * may bring its own (NCCL, a thread-local loopback in tests).
 */
#ifndef VKVAE_GROUP_H
#define VKVAE_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef enum vkvae_reduce_op {
    VKVAE_REDUCE_SUM_F32, /* float sums: every member gets the same bits */
    VKVAE_REDUCE_SUM_F64,
    VKVAE_REDUCE_MAX_U64,
} vkvae_reduce_op;

typedef struct vkvae_group {
    uint32_t rank, size;  /* this process, and how many train together */
    void *user;
    /* Combines count values of buf across every member, in place; every
     * member calls it at the same points with the same count and op. */
    vkvae_status (*allreduce)(void *user, void *buf, size_t count, vkvae_reduce_op op,
                              vkvae_error *err);
} vkvae_group;

/* Rows lo .. hi of a global batch of rows rows are member rank's. */
static inline void vkvae_group_slice(const vkvae_group *g, uint32_t rows, uint32_t *lo,
                                     uint32_t *hi)
{
    *lo = (uint32_t)((uint64_t)rows * g->rank / g->size);
    *hi = (uint32_t)((uint64_t)rows * (g->rank + 1) / g->size);
}

#endif
