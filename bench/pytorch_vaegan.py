#!/usr/bin/python3
"""The PyTorch twin of vkvae's vaegan_conv (models/vaegan_conv.vae), timed
per epoch, and a cross-check of vkvae's checkpoint.

The same layers with vkvae's names (`vkvae-gen models/vaegan_conv.vae
--explain`): enc.conv1 = Conv2d(1, 32, 4, 2, 1, bias=False), enc.bn1, ReLU;
enc.conv2 = Conv2d(32, 64, 4, 2, 1, bias=False), enc.bn2, ReLU; flatten;
enc.mu, enc.logvar = Linear(3136, 32); z = mu + exp(logvar / 2) * eps.
dec.fc1 = Linear(32, 6272, bias=False) viewed as 128x7x7, dec.bn1, ReLU;
dec.deconv1 = ConvTranspose2d(128, 64, 4, 2, 1, bias=False), dec.bn2, ReLU;
dec.deconv2 = ConvTranspose2d(64, 1, 4, 2, 1), sigmoid. dis.conv1 =
Conv2d(1, 32, 4, 2, 1), LeakyReLU(0.2); dis.conv2 = Conv2d(32, 64, 4, 2, 1,
bias=False), dis.bn1, LeakyReLU(0.2) (the features f); flatten; dis.fc1 =
Linear(3136, 1). PyTorch's default initialisation.

Losses summed over the batch as vkvae's: kl = KL(q(z|x) || N(0, I));
llike = -log N(f(x) | f(x_rec), I) (Larsen et al.'s feature-wise term);
d_loss = bce(dis(x), 1) + bce(dis(x_rec), 0) + bce(dis(x_gen), 0); g_loss =
bce(dis(x_rec), 1) + bce(dis(x_gen), 1), x_gen = dec(noise). Each step
three updates in turn, each with the others' newest weights (vkvae's
order): the encoder on kl + llike, the decoder on 0.01 llike + g_loss, the
discriminator on d_loss; Adam lr 2e-4 betas (0.5, 0.999) each, batch 64,
seed 1. One eps and one noise draw per step, as vkvae's. vkvae runs a
call again only where an earlier update changed what it reads, so its
batch norms' running averages move a few times fewer per step than here
(the training figures do not read them).

--check CKPT: load a checkpoint vkvae wrote for vaegan_conv with a strict
load_state_dict and write 64 samples of the decoder in eval mode to --png.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_vaegan.py --epochs 1
"""
import argparse
import json
import math
import os
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_gan import Generator, bce  # noqa: E402
from twin_util import (add_input_options, add_run_options, epoch_speed,  # noqa: E402
                       load_checkpoint, load_images, set_threads_and_seed, write_png)

LATENT = 32


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.mu = nn.Linear(64 * 7 * 7, LATENT)
        self.logvar = nn.Linear(64 * 7 * 7, LATENT)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h))).flatten(1)
        return self.mu(h), self.logvar(h)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 1)

    def features(self, x):
        h = F.leaky_relu(self.conv1(x), 0.2)
        return F.leaky_relu(self.bn1(self.conv2(h)), 0.2)

    def forward(self, x):
        f = self.features(x)
        return self.fc1(f.flatten(1)), f


class VAEGAN(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.dec = Generator(LATENT)  # gan_dcgan's generator, from the code
        self.dis = Discriminator()


def gauss(mean, target):
    """-log N(target | mean, I), summed."""
    return 0.5 * ((target - mean) ** 2).sum() + 0.5 * math.log(2 * math.pi) * mean.numel()


def kl_term(mu, lv):
    return -0.5 * (1 + lv - mu * mu - lv.exp()).sum()


def step(model, opts, x):
    """One training step, the three updates in vkvae's order; returns the
    four terms' sums as vkvae reports them (each from its first update)."""
    enc, dec, dis = model.enc, model.dec, model.dis
    eps = torch.randn(len(x), LATENT)
    noise = torch.randn(len(x), LATENT)
    # the encoder: kl + llike
    mu, lv = enc(x)
    z = mu + (0.5 * lv).exp() * eps
    f_real = dis.features(x).detach()
    kl = kl_term(mu, lv)
    llike = gauss(dis.features(dec(z)), f_real)
    opts[0].zero_grad()
    (kl + llike).backward()
    opts[0].step()
    # the decoder: 0.01 llike + g_loss, the code from the updated encoder
    with torch.no_grad():
        mu, lv = enc(x)
        z = mu + (0.5 * lv).exp() * eps
    x_rec, x_gen = dec(z), dec(noise)
    d_rec, f_rec = dis(x_rec)
    d_gen, _ = dis(x_gen)
    g_loss = bce(d_rec, True) + bce(d_gen, True)
    opts[1].zero_grad()
    (0.01 * gauss(f_rec, f_real) + g_loss).backward()
    opts[1].step()
    # the discriminator: d_loss, on the updated decoder's images
    with torch.no_grad():
        x_rec, x_gen = dec(z), dec(noise)
    d_loss = bce(dis(x)[0], True) + bce(dis(x_rec)[0], False) + bce(dis(x_gen)[0], False)
    opts[2].zero_grad()
    d_loss.backward()
    opts[2].step()
    return kl.item(), llike.item(), d_loss.item(), g_loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap)
    add_input_options(ap, "load vkvae's checkpoint and sample it")
    ap.add_argument("--png", default="pytorch_vaegan_samples.png")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    model = VAEGAN()
    if a.check:
        load_checkpoint(model, a.check)
        model.eval()
        with torch.no_grad():
            write_png(a.png, model.dec(torch.randn(64, LATENT)))
        print(f"loaded {a.check} strictly; wrote {a.png} (PyTorch {torch.__version__})")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    if a.limit:
        train_x = train_x[:a.limit]
    opts = [torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
            for m in (model.enc, model.dec, model.dis)]
    names = ("kl", "llike", "d_loss", "g_loss")
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        sums = [0.0] * 4
        for i in range(0, len(train_x), 64):
            for k, v in enumerate(step(model, opts, train_x[order[i:i + 64]])):
                sums[k] += v
        seconds = time.perf_counter() - start
        n = len(train_x)
        row = {"epoch": epoch, "seconds": seconds}
        row.update({name: s / n for name, s in zip(names, sums)})
        figures.append(row)
        print(f"epoch {epoch}: train " + ", ".join(f"{k} {row[k]:.4f}" for k in names) +
              f"  {epoch_speed(seconds, n)}", flush=True)
    model.eval()
    with torch.no_grad():
        write_png(a.png, model.dec(torch.randn(64, LATENT)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": "vaegan_conv", "torch": torch.__version__,
                       "threads": a.threads, "epochs": figures}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
