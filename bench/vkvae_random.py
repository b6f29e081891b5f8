"""vkvae's random draws in NumPy, bit for bit: Philox 4x32-10 addressed by
(seed, stream, step, index) and the uniform, normal and shuffle built on it
(runtime/plan/philox.h and runtime/plan/shuffle.c are the definitions).
A twin that draws what vkvae drew can compare one step's gradients with
vkvae's exactly, noise included."""
import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF

# vkvae_stream (runtime/plan/plan.h)
STREAM_SHUFFLE, STREAM_EPS, STREAM_WORD_DROPOUT = 1, 2, 9


def words(seed, stream, step, index):
    """Philox4x32-10 of counter {index, step, 0, 0} and key {seed, stream}:
    the four words, each an array shaped as INDEX."""
    c0 = np.asarray(index, dtype=np.uint64) & MASK
    c1 = np.full_like(c0, step & MASK)
    c2 = np.zeros_like(c0)
    c3 = np.zeros_like(c0)
    k0, k1 = seed & MASK, stream & MASK
    for round_ in range(10):
        if round_:
            k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
        p0, p1 = c0 * np.uint64(M0), c2 * np.uint64(M1)
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK)
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
    return c0, c1, c2, c3


def uniform01(word):
    """((word >> 9) + 0.5) * 2^-23 in float32: exact, in (0, 1)."""
    return ((word >> np.uint64(9)).astype(np.float32) + np.float32(0.5)) * np.float32(2.0 ** -23)


def uniform(seed, stream, step, index):
    return uniform01(words(seed, stream, step, index)[0])


def normal(seed, stream, step, index):
    """Box-Muller of words 0 and 1 in float32, as the CPU backend draws it
    (the GPU's log and cos may differ in the last bits)."""
    w = words(seed, stream, step, index)
    u0, u1 = uniform01(w[0]), uniform01(w[1])
    return (np.sqrt(np.float32(-2.0) * np.log(u0)) *
            np.cos(np.float32(3.14159265358979) * (np.float32(2.0) * u1 - np.float32(1.0))))


def shuffle(n, seed, epoch):
    """vkvae_shuffle: the epoch's order of n rows (Fisher-Yates, a draw a
    place from the last down)."""
    perm = list(range(n))
    if n < 2:
        return perm
    u = words(seed, STREAM_SHUFFLE, epoch, np.arange(n, dtype=np.uint64))[0]
    for i in range(n - 1, 0, -1):
        j = int((int(u[i]) * (i + 1)) >> 32)
        perm[i], perm[j] = perm[j], perm[i]
    return perm
