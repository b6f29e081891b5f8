#!/usr/bin/python3
"""A deterministic synthetic colour image set in IDX layout, for the colour
conv VAEs (vae_conv32, vae_conv64) and their PyTorch twins.

Writes, in OUT, the four files `vkvae train --data OUT` and
`bench/pytorch_vae.py --data OUT` read:
    train-images-idx3-ubyte   magic 0x00000804, N x C x H x W unsigned bytes
    train-labels-idx1-ubyte   magic 0x00000801, N bytes
    t10k-images-idx3-ubyte    the test images, same layout
    t10k-labels-idx1-ubyte
(the MNIST file names, kept for colour too: vkvae reads a 4-d images file
under the same name).

Each image is a smooth linear gradient between two random colours in a
random direction, with one to three soft Gaussian blobs of random colour,
size and place blended over it: smooth, low-dimensional structure a VAE can
learn in an epoch or two, unlike noise. The label is the blob count minus
one (0, 1 or 2).

Deterministic: the same arguments give the same bytes every run (numpy's
PCG64 stream and its uniform doubles are stable across numpy versions, and
only `random()` is used; a different libm's exp could move a rare pixel by
one level). The train and test sets draw from separate streams, so the test
set does not change with --train. The last line prints a digest to compare.

    /usr/bin/python3 bench/make_colour_set.py OUT [--train 10000] [--test 1000]
                                               [--size 64] [--seed 1]
"""
import argparse
import hashlib
import os
import struct
import sys

import numpy as np

MAX_BLOBS = 3


def draw_params(rng, n):
    """All random draws for n images, in one fixed order."""
    u = rng.random((n, 16 + 7 * MAX_BLOBS))
    return u


def render(u, size):
    """Images (n, 3, size, size) as uint8 from the draws u (n, 16 + 7 * MAX_BLOBS)."""
    n = len(u)
    t = (np.arange(size, dtype=np.float64) + 0.5) / size          # pixel centres in (0, 1)
    yy = t[None, :, None]
    xx = t[None, None, :]
    # Background: colour c0 -> c1 along direction theta.
    c0 = u[:, 0:3]
    c1 = u[:, 3:6]
    theta = 2 * np.pi * u[:, 6]
    proj = (np.cos(theta)[:, None, None] * (xx - 0.5) +
            np.sin(theta)[:, None, None] * (yy - 0.5))             # in [-0.71, 0.71]
    s = np.clip(proj / 1.4142135623730951 + 0.5, 0.0, 1.0)       # (n, size, size)
    img = c0[:, :, None, None] + (c1 - c0)[:, :, None, None] * s[:, None]
    blobs = 1 + np.minimum((u[:, 7] * MAX_BLOBS).astype(np.int64), MAX_BLOBS - 1)
    for b in range(MAX_BLOBS):
        p = u[:, 16 + 7 * b: 16 + 7 * (b + 1)]
        cy = 0.15 + 0.7 * p[:, 0]
        cx = 0.15 + 0.7 * p[:, 1]
        radius = 0.08 + 0.17 * p[:, 2]
        colour = p[:, 3:6]
        alpha = (0.6 + 0.4 * p[:, 6]) * (b < blobs)
        d2 = (yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2
        w = alpha[:, None, None] * np.exp(-0.5 * d2 / radius[:, None, None] ** 2)
        img = img * (1 - w[:, None]) + colour[:, :, None, None] * w[:, None]
    # Round half up, once, from float64: the same bytes everywhere.
    return np.floor(np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), (blobs - 1).astype(np.uint8)


def write_idx(path, array):
    dims = array.shape
    magic = 0x00000800 | len(dims)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack(">I", magic))
        f.write(struct.pack(">" + "I" * len(dims), *dims))
        f.write(np.ascontiguousarray(array).tobytes())
    os.replace(tmp, path)


def make(rng, n, size, chunk=500):
    u = draw_params(rng, n)
    images = np.empty((n, 3, size, size), dtype=np.uint8)
    labels = np.empty(n, dtype=np.uint8)
    for i in range(0, n, chunk):
        images[i:i + chunk], labels[i:i + chunk] = render(u[i:i + chunk], size)
    return images, labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output folder (created)")
    ap.add_argument("--train", type=int, default=10000, help="train images")
    ap.add_argument("--test", type=int, default=1000, help="test images")
    ap.add_argument("--size", type=int, default=64, help="height and width")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.train < 1 or args.test < 1 or args.size < 4:
        sys.exit("make_colour_set.py: --train and --test must be >= 1, --size >= 4")
    os.makedirs(args.out, exist_ok=True)
    digest = hashlib.sha256()
    for stem, n, stream in (("train", args.train, 0), ("t10k", args.test, 1)):
        images, labels = make(np.random.default_rng([args.seed, stream]), n, args.size)
        write_idx(os.path.join(args.out, f"{stem}-images-idx3-ubyte"), images)
        write_idx(os.path.join(args.out, f"{stem}-labels-idx1-ubyte"), labels)
        digest.update(images.tobytes())
        print(f"{stem}: {n} x 3 x {args.size} x {args.size}, mean value "
              f"{images.mean() / 255:.3f}, labels {np.bincount(labels, minlength=3).tolist()}")
    print(f"wrote {args.out} (sha256 of the images {digest.hexdigest()[:16]})")


if __name__ == "__main__":
    main()
