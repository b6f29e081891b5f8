#!/usr/bin/python3
"""The PyTorch twin of vkvae's pixelcnn (models/pixelcnn.vae), timed per
epoch, with its test NLL, the time to sample 64 images, and a cross-check
of vkvae's checkpoint.

The same layers with vkvae's names (`vkvae-gen models/pixelcnn.vae
--explain`), under a module `pcnn`: r0 = Conv2d(1, 32, 7, padding 3) with
mask A; three blocks of a 3x3 Conv2d(32, 64, padding 1) with mask B
(conv2, conv4, conv6), the gate tanh(first 32 channels) * sigmoid(last 32),
a 1x1 Conv2d(32, 32) (conv3, conv5, conv7) added to the block's input; a
ReLU on the last sum; conv8 = 1x1 Conv2d(32, 32), ReLU; conv9 = 1x1
Conv2d(32, 1), one logit a pixel. A mask multiplies the weight before
every convolution (mask A: the taps before the centre in raster order;
B: the centre too), as vkvae's conv_mask does. PyTorch's default
initialisation.

Loss: binary cross-entropy of the logits against the binarised image,
summed over pixels and the batch (vkvae sums), Adam lr 1e-3, batch 64,
seed 1. The images are binarised afresh for every batch (a Bernoulli draw
of each pixel's grey level, as vkvae's `binarize`); the test NLL (nats an
image) is over the 10,000 test images binarised once. Sampling: 784
forwards of the batch, each drawing one pixel.

--check CKPT: load a checkpoint vkvae wrote for pixelcnn with a strict
load_state_dict, print its test NLL, and sample 64 images to --png.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_pixelcnn.py --epochs 1
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twin_util import (add_input_options, add_run_options, epoch_speed,  # noqa: E402
                       load_checkpoint, load_images, set_threads_and_seed, write_png)


class MaskedConv2d(nn.Conv2d):
    """A same-size convolution whose output pixel sees the input's pixels
    before it in raster order (mask A), or those and its own (mask B)."""
    def __init__(self, c_in, c_out, k, kind):
        super().__init__(c_in, c_out, k, padding=k // 2)
        mask = torch.ones(k, k)
        c = k // 2
        mask[c, c + (kind == "B"):] = 0
        mask[c + 1:] = 0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.r0 = MaskedConv2d(1, 32, 7, "A")
        for i in (2, 4, 6):
            setattr(self, f"conv{i}", MaskedConv2d(32, 64, 3, "B"))
            setattr(self, f"conv{i + 1}", nn.Conv2d(32, 32, 1))
        self.conv8 = nn.Conv2d(32, 32, 1)
        self.conv9 = nn.Conv2d(32, 1, 1)

    def forward(self, x):
        h = self.r0(x)
        for i in (2, 4, 6):
            a, b = getattr(self, f"conv{i}")(h).chunk(2, dim=1)
            h = h + getattr(self, f"conv{i + 1}")(torch.tanh(a) * torch.sigmoid(b))
        h = F.relu(self.conv8(F.relu(h)))
        return self.conv9(h)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pcnn = PixelCNN()


def nll(model, x):
    return F.binary_cross_entropy_with_logits(model.pcnn(x), x, reduction="sum")


def test_nll(model, test_x):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(test_x), 500):
            total += nll(model, test_x[i:i + 500]).item()
    return total / len(test_x)


def sample(model, n):
    """n images, pixel by pixel: 784 forwards."""
    model.eval()
    x = torch.zeros(n, 1, 28, 28)
    with torch.no_grad():
        for p in range(28 * 28):
            r, c = divmod(p, 28)
            probs = torch.sigmoid(model.pcnn(x)[:, 0, r, c])
            x[:, 0, r, c] = torch.bernoulli(probs)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap)
    add_input_options(ap, "load vkvae's checkpoint and sample it")
    ap.add_argument("--png", default="pytorch_pixelcnn_samples.png")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    model = Model()
    test_x = torch.bernoulli(load_images(a.data, "t10k-images-idx3-ubyte"))
    if a.check:
        load_checkpoint(model, a.check)
        print(f"loaded {a.check} strictly (PyTorch {torch.__version__}); "
              f"test nll {test_nll(model, test_x):.4f} nats/image")
        write_png(a.png, sample(model, 64))
        print(f"wrote {a.png}")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    if a.limit:
        train_x = train_x[:a.limit]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        total = 0.0
        for i in range(0, len(train_x), 64):
            x = torch.bernoulli(train_x[order[i:i + 64]])
            opt.zero_grad()
            loss = nll(model, x)
            loss.backward()
            opt.step()
            total += loss.item()
        seconds = time.perf_counter() - start
        n = len(train_x)
        test = test_nll(model, test_x)
        figures.append({"epoch": epoch, "seconds": seconds, "train_nll": total / n,
                        "test_nll": test})
        print(f"epoch {epoch}: train nll {total / n:.4f}  test nll {test:.4f} nats/image  "
              f"{epoch_speed(seconds, n)}", flush=True)
    start = time.perf_counter()
    write_png(a.png, sample(model, 64))
    sample_seconds = time.perf_counter() - start
    print(f"sampled 64 images in {sample_seconds:.1f}s: {a.png}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": "pixelcnn", "torch": torch.__version__, "threads": a.threads,
                       "epochs": figures, "sample64_seconds": sample_seconds}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
