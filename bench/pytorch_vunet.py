#!/usr/bin/python3
"""The PyTorch twin of vkvae's vunet (models/vunet.vae): a small Variational
U-Net (Esser, Sutter and Ommer 2018) on Fashion-MNIST, timed per epoch, with
its test reconstruction and KL terms; and a cross-check of vkvae's
checkpoints.

The same layers with vkvae's names (`vkvae check models/vunet.vae
--explain`), in the spec's order (shape, enc, pri, dec; PyTorch's default
initialisation draws from the seeded generator in that order, weight then
bias, which is vkvae's `init pytorch`). shape: no parameters; s = edges
threshold 0.5 of x (op sobel): the channels' mean g, zero padded, Sobel's
kernels gx = [[-1,0,1],[-2,0,2],[-1,0,1]] and gy its transpose, s = 1 where
sqrt(gx^2 + gy^2) > 0.5, else 0 (fixed: no gradient). enc, q(a|x,s): x then
s as channels (2x28x28); enc.conv1 = Conv2d(2, 32, 4, stride 2, padding 1),
ReLU; enc.conv2 = Conv2d(32, 64, 4, 2, 1), ReLU; flatten (C, H, W order);
enc.fc1 = Linear(3136, 256), ReLU; enc.mu, enc.logvar = Linear(256, 16);
a = mu + exp(logvar / 2) * eps. pri, p(a|s): pri.conv1 = Conv2d(1, 32, 4, 2,
1), ReLU; pri.conv2 = Conv2d(32, 64, 4, 2, 1), ReLU; flatten; pri.fc1 =
Linear(3136, 256), ReLU; pri.mu, pri.logvar = Linear(256, 16). dec, p(x|s,a),
a U-Net over s: dec.d1 = Conv2d(1, 32, 4, 2, 1), ReLU (32x14x14); dec.d2 =
Conv2d(32, 32, 4, 2, 1), ReLU (32x7x7); flatten, then a (1568 + 16);
dec.fc1 = Linear(1584, 1568), ReLU, viewed as 32x7x7; then d2 (64x7x7);
dec.deconv1 = ConvTranspose2d(64, 32, 4, 2, 1), ReLU; then d1 (64x14x14);
dec.deconv2 = ConvTranspose2d(64, 16, 4, 2, 1), ReLU; then s (17x28x28);
dec.conv3 = Conv2d(17, 1, 3, padding 1): Bernoulli logits. Weights in
PyTorch's layouts, as vkvae stores them (dense [out, in], conv [out, in, kh,
kw], transposed conv [in, out, kh, kw]).

Loss, summed over the batch's rows as vkvae sums: rec = binary cross-
entropy with logits of dec(s, a) against x, summed over pixels; kl =
KL(q(a|x,s) || p(a|s)) of two diagonal Gaussians, per row 0.5 * sum(lp - lq
+ (exp(lq) + (mq - mp)^2) / exp(lp) - 1), its gradient into both networks'
heads. Minimised: rec + kl, by one Adam (lr 1e-3) over enc, pri and dec;
batch 64, seed 1, fresh noise every pass. The graph's x_gen = dec(s, a ~
p(a|s)) draws samples only (sample() here); it is no part of the loss, and
vkvae's training step does not compute it either.

The data as bench/pytorch_vae.py holds it (in memory, / 255); --limit takes
the first N training images, as vkvae's flag does; every epoch shuffled,
the last batch partial. The figures: train rec and kl per image of the
epoch; test rec and kl per image on the 10,000 test images (in order, a
fresh eps each), the epoch's seconds and images per second.

--check CKPT: load a checkpoint vkvae wrote for vunet with a strict
load_state_dict and print its test rec and kl as `vkvae eval` prints them.
The kl depends on mu and logvar alone, so it agrees with vkvae's to float
rounding; rec reads a = mu + exp(logvar / 2) * eps with eps drawn (by
another generator than vkvae's), so it agrees only within that draw's noise.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_vunet.py --epochs 1
    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_vunet.py --check runs/vunet/checkpoint.safetensors
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
                       load_checkpoint, load_images, median_summary, set_threads_and_seed)

LATENT, HIDDEN, THRESHOLD, BATCH = 16, 256, 0.5, 64

# Sobel's kernels as one conv2d's two output channels: [2, 1, 3, 3].
SOBEL = torch.tensor([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]],
                      [[[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]]])


def edges(x, threshold=THRESHOLD):
    """vkvae's op sobel, mode 1: [n, C, H, W] -> [n, 1, H, W] of 0 and 1."""
    g = x.mean(1, keepdim=True)
    gxy = F.conv2d(g, SOBEL, padding=1)
    m = gxy.pow(2).sum(1, keepdim=True).sqrt()
    return (m > threshold).to(x.dtype)


class Gaussian(nn.Module):
    """Two convs, flatten, a dense layer and the gaussian heads: enc (on x and
    s, 2 channels) and pri (on s alone, 1)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 4, 2, 1)
        self.conv2 = nn.Conv2d(32, 64, 4, 2, 1)
        self.fc1 = nn.Linear(64 * 7 * 7, HIDDEN)
        self.mu = nn.Linear(HIDDEN, LATENT)
        self.logvar = nn.Linear(HIDDEN, LATENT)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        h = F.relu(self.fc1(h.flatten(1)))
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """p(x|s,a): a U-Net over s with a at its bottleneck; Bernoulli logits."""

    def __init__(self):
        super().__init__()
        self.d1 = nn.Conv2d(1, 32, 4, 2, 1)
        self.d2 = nn.Conv2d(32, 32, 4, 2, 1)
        self.fc1 = nn.Linear(32 * 7 * 7 + LATENT, 32 * 7 * 7)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.deconv2 = nn.ConvTranspose2d(64, 16, 4, 2, 1)
        self.conv3 = nn.Conv2d(17, 1, 3, padding=1)

    def forward(self, s, a):
        d1 = F.relu(self.d1(s))
        d2 = F.relu(self.d2(d1))
        h = F.relu(self.fc1(torch.cat([d2.flatten(1), a], 1))).view(-1, 32, 7, 7)
        h = F.relu(self.deconv1(torch.cat([h, d2], 1)))
        h = F.relu(self.deconv2(torch.cat([h, d1], 1)))
        return self.conv3(torch.cat([h, s], 1))


class VUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Gaussian(2)
        self.pri = Gaussian(1)
        self.dec = Decoder()

    def sample(self, x):
        """x_gen: x's shape with an appearance drawn from p(a|s), as
        probabilities."""
        s = edges(x)
        mp, lp = self.pri(s)
        ap = mp + (0.5 * lp).exp() * torch.randn_like(mp)
        return torch.sigmoid(self.dec(s, ap))


def reparam(mu, logvar):
    return mu + (0.5 * logvar).exp() * torch.randn_like(mu)


def losses(model, x):
    """rec and kl, each summed over the rows of x."""
    s = edges(x)
    mq, lq = model.enc(torch.cat([x, s], 1))
    mp, lp = model.pri(s)
    logits = model.dec(s, reparam(mq, lq))
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = 0.5 * (lp - lq + (lq.exp() + (mq - mp).pow(2)) / lp.exp() - 1).sum()
    return rec, kl


def evaluate(model, test_x, batch=1000):
    """Test rec and kl per image."""
    model.eval()
    rec = kl = 0.0
    with torch.no_grad():
        for i in range(0, len(test_x), batch):
            r, k = losses(model, test_x[i:i + batch])
            rec, kl = rec + r.item(), kl + k.item()
    n = len(test_x)
    return rec / n, kl / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=BATCH)
    add_input_options(ap, "evaluate vkvae's vunet checkpoint")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    model = VUNet()
    test_x = load_images(a.data, "t10k-images-idx3-ubyte")
    if a.check:
        load_checkpoint(model, a.check)
        rec, kl = evaluate(model, test_x)
        print(f"loaded {a.check} strictly (PyTorch {torch.__version__}); "
              f"{len(test_x)} test images")
        print(f"rec              {rec:.4f} nats/image")
        print(f"kl               {kl:.4f} nats/image")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    if a.limit:
        train_x = train_x[:a.limit]
    n = len(train_x)
    print(f"vunet: {n} training images, {len(test_x)} test images, batch {a.batch}; "
          f"PyTorch {torch.__version__}, {a.threads} threads", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(n)
        start = time.perf_counter()
        total_r = total_k = 0.0
        for i in range(0, n, a.batch):
            x = train_x[order[i:i + a.batch]]
            opt.zero_grad()
            rec, kl = losses(model, x)
            (rec + kl).backward()
            opt.step()
            total_r, total_k = total_r + rec.item(), total_k + kl.item()
        seconds = time.perf_counter() - start
        rec, kl = evaluate(model, test_x)
        figures.append({"epoch": epoch, "seconds": seconds, "train_rec": total_r / n,
                        "train_kl": total_k / n, "test_rec": rec, "test_kl": kl})
        print(f"epoch {epoch}: train rec {total_r / n:.4f}, kl {total_k / n:.4f}  test rec "
              f"{rec:.4f}, kl {kl:.4f} nats/image  {epoch_speed(seconds, n)}",
              flush=True)
    result = {"model": "vunet", "torch": torch.__version__, "threads": a.threads,
              "train_images": n, "batch": a.batch, "epochs": figures}
    if figures:
        result["train_s_median"], line = median_summary([r["seconds"] for r in figures], n)
        print(f"vunet: test rec {figures[-1]['test_rec']:.4f}, kl {figures[-1]['test_kl']:.4f} "
              f"after {len(figures)} epochs; {line}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
