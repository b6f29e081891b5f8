"""What the PyTorch twins of vkvae's models (bench/pytorch_*.py) share.

Each twin reads the same Fashion-MNIST IDX files vkvae reads, seeds
PyTorch's global generator once at the start as vkvae seeds its run, takes
the same core options (--epochs, --limit, --threads, --seed, --data,
--check), prints its epoch times alike, and loads vkvae's safetensors
checkpoints for --check. Keeping these in one place keeps the twins'
figures comparable with vkvae's and with each other: the same data, the
same seed handling, the same printed figures. What is a model's own (its
layers, loss, training step and figures) stays in its script.

A twin runs as `python3 bench/pytorch_X.py`, which puts bench/ on sys.path,
so `from twin_util import ...` finds this file from any working folder.
"""
import gzip
import json
import os
import statistics
import struct
import sys
import zlib

import numpy as np
import torch

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file of unsigned bytes (raw or gzip) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        sys.exit(f"{path}: header declares {dims}, data holds {data.size} bytes")
    return data.reshape(dims)


def load_images(folder, stem):
    """The images of FOLDER/STEM (or STEM.gz) as a float tensor N x C x H x W
    of grey levels / 255, as torchvision's ToTensor gives."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            u8 = read_idx(path)
            if u8.ndim not in (3, 4):
                sys.exit(f"{path}: images need 3 (N x H x W) or 4 (N x C x H x W) "
                         f"dimensions, got {u8.ndim}")
            # ToTensor: uint8 HxW -> float32 1xHxW, divided by 255.
            x = torch.from_numpy(u8.copy()).float().div(255)
            return x.unsqueeze(1) if u8.ndim == 3 else x
    sys.exit(f"{folder}: neither {stem} nor {stem}.gz found")


def load_labels(folder, stem):
    """The labels of FOLDER/STEM (or STEM.gz) as a long tensor."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return torch.from_numpy(read_idx(path).astype(np.int64))
    sys.exit(f"{folder}: neither {stem} nor {stem}.gz found")


def add_run_options(ap, epochs=10, limit=True):
    """--epochs (default EPOCHS), --limit (unless LIMIT is False), --threads
    and --seed, in that order."""
    ap.add_argument("--epochs", type=int, default=epochs)
    if limit:
        ap.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--seed", type=int, default=1)


def add_input_options(ap, check_help):
    """--data (the IDX folder) and --check CKPT (vkvae's checkpoint; what
    the twin does with it is CHECK_HELP)."""
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--check", metavar="CKPT", help=check_help)


def set_threads_and_seed(args):
    """torch's thread count, then its global generator's seed: every random
    draw of the run (initialisation, shuffles, noise) follows from it."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)


def epoch_speed(seconds, n, unit="img"):
    """An epoch's time and images (or UNITs: "seq" for sequences) per second
    as the twins print them."""
    return f"{seconds:.1f}s, {n / seconds:.0f} {unit}/s"


def median_summary(times, n, unit="img"):
    """The median of the epochs' TIMES and the line that reports it, with
    the images (or UNITs; N an epoch) per second at the median."""
    median = statistics.median(times)
    return median, (f"train epoch median {median:.3f} s (min {min(times):.3f}, "
                    f"max {max(times):.3f}), {n / median:.1f} {unit}/s")


def read_checkpoint(path):
    """The float32 tensors of a safetensors file (vkvae's optimizer state
    left out) as a state_dict."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    body = raw[8 + n:]
    state = {}
    for name, t in header.items():
        if name.startswith("optim."):
            continue
        lo, hi = t["data_offsets"]
        state[name] = torch.from_numpy(np.frombuffer(body[lo:hi], dtype=np.float32).copy()
                                       .reshape(t["shape"]))
    return state


def worst_relative_error(pairs, what):
    """For each (name, ours, reference) of tensors: prints |reference| and
    |ours - reference| / |reference|; returns the worst of those."""
    worst = 0.0
    for name, ours, ref in pairs:
        err = ((ours - ref).norm() / ref.norm().clamp_min(1e-12)).item()
        worst = max(worst, err)
        print(f"{name:24s} |{what}| {ref.norm().item():12.6f}  relative error {err:.2e}")
    return worst


def grad_check_verdict(worst):
    """The last line of a --grad-check, and its exit status. (W0 - W1) / LR
    carries float32's rounding of the weights: ~1e-6 of them."""
    print(f"worst relative error {worst:.2e}: {'agree' if worst < 1e-4 else 'DISAGREE'}")
    return 0 if worst < 1e-4 else 1


def load_checkpoint(model, path):
    """Load vkvae's checkpoint PATH into MODEL with a strict load_state_dict."""
    model.load_state_dict(read_checkpoint(path), strict=True)


def write_png(path, images):
    """images: [n, 1, 28, 28] in [0, 1], as an 8-wide grey grid."""
    n = images.shape[0]
    cols = 8
    rows = (n + cols - 1) // cols
    grid = torch.zeros(rows * 28, cols * 28)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = images[i, 0]
    px = (grid.clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()
    raw = b"".join(b"\0" + px[y].tobytes() for y in range(px.shape[0]))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", px.shape[1], px.shape[0], 8, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))
