/* The per-epoch permutation of the training set, the same on every
 * backend: the host computes it and uploads it (a DATA-role buffer). */
#ifndef VKVAE_SHUFFLE_H
#define VKVAE_SHUFFLE_H

#include <stdint.h>

/* perm[0 .. n) = a permutation of 0 .. n-1 for epoch: Fisher-Yates from the
 * top, swapping i with j = floor(u32 * (i+1) / 2^32), u32 = vkvae_rand_u32(
 * seed, VKVAE_STREAM_SHUFFLE, step = epoch, index = i). The multiply-shift
 * bias is at most n / 2^32 per draw (1.4e-5 for 60,000), far below what a
 * shuffle for SGD can notice. */
void vkvae_shuffle(uint32_t *perm, uint32_t n, uint32_t seed, uint32_t epoch);

#endif
