#!/usr/bin/python3
"""The PyTorch twin of vkvae's gan_dcgan (models/gan_dcgan.vae), timed per
epoch, and a cross-check of vkvae's checkpoint.

The same layers with vkvae's names (`vkvae-gen models/gan_dcgan.vae
--explain`): gen.fc1 = Linear(64, 6272, bias=False), viewed as 128x7x7,
gen.bn1 = BatchNorm2d(128), ReLU; gen.deconv1 = ConvTranspose2d(128, 64, 4,
stride 2, padding 1, bias=False), gen.bn2 = BatchNorm2d(64), ReLU;
gen.deconv2 = ConvTranspose2d(64, 1, 4, 2, 1), sigmoid. dis.conv1 =
Conv2d(1, 64, 4, 2, 1), LeakyReLU(0.2); dis.conv2 = Conv2d(64, 128, 4, 2, 1,
bias=False), dis.bn1 = BatchNorm2d(128), LeakyReLU(0.2); flatten; dis.fc1
= Linear(6272, 1), the logit. PyTorch's default initialisation.

Each step as vkvae's train program runs it: 64 values of N(0, I) noise a
row, fake = gen(noise); the discriminator's update on bce(dis(x), real) +
bce(dis(fake), fake), then the generator's on bce(dis(fake), real) with
the updated discriminator (the non-saturating loss), the generator's
forward reused. Binary cross-entropy of logits summed over the batch
(vkvae sums its losses), Adam lr 2e-4 betas (0.5, 0.999) for each, batch
64, seed 1. The data as bench/pytorch_vae.py holds it: in memory, / 255,
batches sliced in a shuffled order each epoch, the last one partial.

--check CKPT: load a checkpoint vkvae wrote for gan_dcgan with a strict
load_state_dict (the running averages included) and write 64 samples of
the generator in eval mode to --png, for a look beside vkvae's.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_gan.py --epochs 1
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

NOISE = 64


class Generator(nn.Module):
    """noise values a row -> 1x28x28 (also vaegan_conv's decoder, from its code)."""
    def __init__(self, noise=NOISE):
        super().__init__()
        self.fc1 = nn.Linear(noise, 128 * 7 * 7, bias=False)
        self.bn1 = nn.BatchNorm2d(128)
        self.deconv1 = nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.deconv2 = nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.bn1(self.fc1(z).view(-1, 128, 7, 7)))
        h = F.relu(self.bn2(self.deconv1(h)))
        return torch.sigmoid(self.deconv2(h))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(128)
        self.fc1 = nn.Linear(128 * 7 * 7, 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.bn1(self.conv2(h)), 0.2)
        return self.fc1(h.flatten(1))


class GAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.gen = Generator()
        self.dis = Discriminator()


def bce(logits, real):
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap)
    add_input_options(ap, "load vkvae's checkpoint and sample it")
    ap.add_argument("--png", default="pytorch_gan_samples.png")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    model = GAN()
    if a.check:
        load_checkpoint(model, a.check)
        model.eval()
        with torch.no_grad():
            write_png(a.png, model.gen(torch.randn(64, NOISE)))
        print(f"loaded {a.check} strictly; wrote {a.png} (PyTorch {torch.__version__})")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    if a.limit:
        train_x = train_x[:a.limit]
    opt_d = torch.optim.Adam(model.dis.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(model.gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        d_total = g_total = 0.0
        for i in range(0, len(train_x), 64):
            x = train_x[order[i:i + 64]]
            fake = model.gen(torch.randn(len(x), NOISE))
            opt_d.zero_grad()
            d_loss = bce(model.dis(x), True) + bce(model.dis(fake.detach()), False)
            d_loss.backward()
            opt_d.step()
            opt_g.zero_grad()
            g_loss = bce(model.dis(fake), True)
            g_loss.backward()
            opt_g.step()
            d_total += d_loss.item()
            g_total += g_loss.item()
        seconds = time.perf_counter() - start
        n = len(train_x)
        figures.append({"epoch": epoch, "seconds": seconds, "d_loss": d_total / n,
                        "g_loss": g_total / n})
        print(f"epoch {epoch}: train d_loss {d_total / n:.4f}, g_loss {g_total / n:.4f}  "
              f"{epoch_speed(seconds, n)}", flush=True)
    model.eval()
    with torch.no_grad():
        write_png(a.png, model.gen(torch.randn(64, NOISE)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": "gan_dcgan", "torch": torch.__version__,
                       "threads": a.threads, "epochs": figures}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
