#!/usr/bin/python3
"""The PyTorch twin of vkvae's vqvae_conv (models/vqvae_conv.vae), timed per
epoch, with its test reconstruction error, the codebook's usage, and two
cross-checks of vkvae's checkpoints.

The same layers with vkvae's names (`vkvae-gen models/vqvae_conv.vae
--explain`): enc = conv1 Conv2d(1, 32, 4, stride 2, padding 1), ReLU; conv2
Conv2d(32, 64, 4, 2, 1), ReLU; conv3 Conv2d(64, 64, 3, padding 1), ReLU;
conv4 Conv2d(64, 16, 1): z_e, 16 values at each of 7x7 positions; then
codebook, 128 codes of 16 values (enc.codebook.weight [128, 16], drawn as a
dense layer's weight: U(-1/4, 1/4)). dec = conv1 Conv2d(16, 64, 3, padding
1), ReLU; deconv1 ConvTranspose2d(64, 32, 4, 2, 1), ReLU; deconv2
ConvTranspose2d(32, 1, 4, 2, 1), sigmoid. PyTorch's default initialisation
elsewhere.

Quantisation as van den Oord et al. 2017: each position takes its nearest
code (squared L2; the lowest index of equal distances, as torch.argmin);
the decoder reads z_e + (z_q - z_e).detach() (straight-through). Loss per
batch, summed over pixels, positions and the batch (vkvae sums): recon =
sum((x_rec - x)^2), vq = sum((z_e.detach() - z_q)^2) + 0.25 *
sum((z_e - z_q.detach())^2); Adam lr 1e-3, batch 128, seed 1. The test
figures are over the 10,000 test images; the codebook's usage over an
epoch's training positions and over the test set: perplexity exp(-sum p
log p) of the codes chosen, and the codes never chosen (dead).

--check CKPT: load a checkpoint vkvae wrote for vqvae_conv with a strict
load_state_dict and print its test figures (vkvae eval prints its own).

--grad-check W0 W1 --lr LR: W0 and W1 are vkvae's checkpoints before and
after one SGD step of LR on the first 128 training images (docs/testing.md
gives the two commands); (W0 - W1) / LR is vkvae's gradient, compared
tensor by tensor with PyTorch's on the same images (a batch's summed loss
does not depend on their order), straight-through and codebook included.

--ema D: the codebook as `codebook 128 ema D` makes it: buffers ema_count
and ema_sum (Sonnet's VectorQuantizerEMA, Laplace-smoothed counts, eps
1e-5) moved in each training forward, the vq term the commitment alone;
with --grad-check, W1's moving averages and codes are compared too.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_vqvae.py --epochs 1
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
from twin_util import (add_input_options, add_run_options, epoch_speed,  # noqa: E402
                       grad_check_verdict, load_checkpoint, load_images, read_checkpoint,
                       set_threads_and_seed, worst_relative_error)

CODES, DIM, BETA = 128, 16, 0.25
EMA = 0.0  # --ema D: the codes as moving averages of decay D (`codebook 128 ema D`)
EPS = 1e-5  # the Laplace smoothing of the moving counts (vkvae's vq_ema_codes)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, 2, 1)
        self.conv2 = nn.Conv2d(32, 64, 4, 2, 1)
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)
        self.conv4 = nn.Conv2d(64, DIM, 1)
        self.codebook = nn.Embedding(CODES, DIM)
        nn.init.uniform_(self.codebook.weight, -1 / math.sqrt(DIM), 1 / math.sqrt(DIM))
        if EMA:  # state, not a parameter: Sonnet's VectorQuantizerEMA
            self.codebook.weight.requires_grad_(False)
            self.codebook.register_buffer("ema_count", torch.zeros(CODES))
            self.codebook.register_buffer("ema_sum", self.codebook.weight.detach().clone())

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.conv4(F.relu(self.conv3(h)))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(DIM, 64, 3, padding=1)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.deconv2 = nn.ConvTranspose2d(32, 1, 4, 2, 1)

    def forward(self, z):
        return torch.sigmoid(self.deconv2(F.relu(self.deconv1(F.relu(self.conv1(z))))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = Encoder()
        self.dec = Decoder()


def quantise(e, z):
    """Each position's nearest code: z [n, D, H, W] -> z_q (same), indices [n*H*W]."""
    flat = z.permute(0, 2, 3, 1).reshape(-1, DIM)
    d = ((flat[:, None, :] - e[None, :, :]) ** 2).sum(-1)
    idx = d.argmin(1)
    zq = e[idx].reshape(z.shape[0], z.shape[2], z.shape[3], DIM).permute(0, 3, 1, 2)
    return zq, idx


def ema_update(book, ze, idx):
    """The moving count and sum of each code's positions, then the codes over
    their Laplace-smoothed counts (vkvae's vq_ema, vq_ema_codes)."""
    with torch.no_grad():
        flat = ze.permute(0, 2, 3, 1).reshape(-1, DIM)
        n = torch.bincount(idx, minlength=CODES).float()
        s = torch.zeros(CODES, DIM).index_add_(0, idx, flat)
        book.ema_count.mul_(EMA).add_((1 - EMA) * n)
        book.ema_sum.mul_(EMA).add_((1 - EMA) * s)
        total = book.ema_count.sum()
        smoothed = (book.ema_count + EPS) / (total + CODES * EPS) * total
        book.weight.copy_(book.ema_sum / smoothed[:, None])


def losses(model, x):
    ze = model.enc(x)
    zq, idx = quantise(model.enc.codebook.weight, ze)
    x_rec = model.dec(ze + (zq - ze).detach())
    recon = ((x_rec - x) ** 2).sum()
    commitment = BETA * ((ze - zq.detach()) ** 2).sum()
    if EMA:  # the codes move by averages: the loss is the commitment alone
        if model.training:
            ema_update(model.enc.codebook, ze, idx)
        return recon, commitment, idx
    return recon, ((ze.detach() - zq) ** 2).sum() + commitment, idx


def usage(counts):
    p = counts / counts.sum()
    nz = p[p > 0]
    return math.exp(-(nz * nz.log()).sum().item()), int((counts == 0).sum())


def evaluate(model, test_x):
    model.eval()
    recon = vq = 0.0
    counts = torch.zeros(CODES)
    with torch.no_grad():
        for i in range(0, len(test_x), 500):
            r, v, idx = losses(model, test_x[i:i + 500])
            recon, vq = recon + r.item(), vq + v.item()
            counts += torch.bincount(idx, minlength=CODES).float()
    n = len(test_x)
    return recon / n, vq / n, *usage(counts)


def grad_check(a):
    """vkvae's one SGD step against PyTorch's gradient at the same weights."""
    w0, w1 = read_checkpoint(a.grad_check[0]), read_checkpoint(a.grad_check[1])
    model = Model()
    model.load_state_dict(w0, strict=True)
    model.train()
    x = load_images(a.data, "train-images-idx3-ubyte")[:128]
    recon, vq, _ = losses(model, x)
    (recon + vq).backward()
    worst = worst_relative_error(((name, (w0[name] - w1[name]) / a.lr, p.grad)
                                  for name, p in model.named_parameters() if p.requires_grad),
                                 "grad")
    if EMA:  # the moving averages and the codes after the step
        state = model.state_dict()
        worst = max(worst, worst_relative_error(
            ((name, w1[name], state[name]) for name in
             ("enc.codebook.ema_count", "enc.codebook.ema_sum", "enc.codebook.weight")), "after"))
    return grad_check_verdict(worst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap)
    add_input_options(ap, "evaluate vkvae's checkpoint")
    ap.add_argument("--grad-check", nargs=2, metavar=("W0", "W1"),
                    help="vkvae's checkpoints around one SGD step (with --lr)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ema", type=float, default=0.0,
                    help="the codes as moving averages of this decay (a spec's 'ema D')")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    global EMA
    EMA = a.ema
    if a.grad_check:
        return grad_check(a)
    model = Model()
    test_x = load_images(a.data, "t10k-images-idx3-ubyte")
    if a.check:
        load_checkpoint(model, a.check)
        recon, vq, perplexity, dead = evaluate(model, test_x)
        print(f"loaded {a.check} strictly (PyTorch {torch.__version__}); test recon "
              f"{recon:.4f} (mse {recon / 784:.5f}), vq {vq:.4f}; codebook perplexity "
              f"{perplexity:.2f}, {dead} dead")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    if a.limit:
        train_x = train_x[:a.limit]
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        total_r = total_v = 0.0
        counts = torch.zeros(CODES)
        for i in range(0, len(train_x), 128):
            x = train_x[order[i:i + 128]]
            opt.zero_grad()
            recon, vq, idx = losses(model, x)
            (recon + vq).backward()
            opt.step()
            total_r, total_v = total_r + recon.item(), total_v + vq.item()
            counts += torch.bincount(idx, minlength=CODES).float()
        seconds = time.perf_counter() - start
        n = len(train_x)
        train_perplexity, train_dead = usage(counts)
        recon, vq, perplexity, dead = evaluate(model, test_x)
        figures.append({"epoch": epoch, "seconds": seconds, "train_recon": total_r / n,
                        "train_vq": total_v / n, "test_recon": recon, "test_vq": vq,
                        "test_mse": recon / 784, "train_perplexity": train_perplexity,
                        "train_dead": train_dead, "test_perplexity": perplexity,
                        "test_dead": dead})
        print(f"epoch {epoch}: train recon {total_r / n:.4f}, vq {total_v / n:.4f}  test recon "
              f"{recon:.4f} (mse {recon / 784:.5f}), vq {vq:.4f}  {epoch_speed(seconds, n)}"
              f"\n  codebook: perplexity {train_perplexity:.1f} train, "
              f"{perplexity:.1f} test of {CODES}; {train_dead} dead in training, {dead} in test",
              flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": "vqvae_conv", "torch": torch.__version__, "threads": a.threads,
                       "epochs": figures}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
