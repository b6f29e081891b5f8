#!/usr/bin/python3
"""The PyTorch twin of vkvae's pixelcnn_codes (models/pixelcnn_codes.vae):
a PixelCNN prior over the code grids of a vqvae_conv checkpoint, timed per
epoch, with its test NLL, the time to sample 64 images (code grids drawn,
then decoded by the VQ-VAE), and a cross-check of vkvae's checkpoint.

The codes: vkvae's VQ-VAE checkpoint (--vq CKPT, written by `vkvae train
vqvae_conv`) loaded strictly into bench/pytorch_vqvae.py's model; each
image's 7x7 grid of nearest codes (torch.argmin: the lowest index of equal
distances, as vkvae's vq_nearest). vkvae computes the same codes on its
device with `vkvae train pixelcnn_codes --codes CKPT`.

The prior, with vkvae's names (`vkvae-gen models/pixelcnn_codes.vae
--explain`), under a module `prior`: the codes one-hot as 128 channels
(F.one_hot; vkvae's `onehot 128`), r0 = Conv2d(128, 64, 5, padding 2)
with mask A; four blocks of a 3x3 Conv2d(64, 128, padding 1) with mask B
(conv2, conv4, conv6, conv8), the gate tanh(first 64 channels) *
sigmoid(last 64), a 1x1 Conv2d(64, 64) (conv3, conv5, conv7, conv9) added
to the block's input; a ReLU on the last sum; conv10 = 1x1 Conv2d(64,
128), ReLU; conv11 = 1x1 Conv2d(128, 128): 128 logits (a code each) a
position. Masks as bench/pytorch_pixelcnn.py's. PyTorch's default
initialisation.

Loss: cross-entropy of the logits against each position's code, summed
over positions and the batch (vkvae sums), Adam lr 1e-3, batch 64, seed 1;
the test NLL (nats a grid) over the codes of the 10,000 test images.
Sampling: 49 forwards of the batch, each drawing one position's code from
its softmax, then the VQ-VAE's decoder on the codes' values.

--check CKPT: load a checkpoint vkvae wrote for pixelcnn_codes with a
strict load_state_dict and print its test NLL on the same codes.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_pixelcnn_codes.py \\
        --vq runs/vqvae_conv/checkpoint.safetensors --epochs 1
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
from pytorch_pixelcnn import MaskedConv2d  # noqa: E402
import pytorch_vqvae as vq  # noqa: E402
from twin_util import (add_input_options, add_run_options, epoch_speed,  # noqa: E402
                       load_checkpoint, load_images, set_threads_and_seed, write_png)

CODES, WIDTH = vq.CODES, 64


class Prior(nn.Module):
    def __init__(self):
        super().__init__()
        self.r0 = MaskedConv2d(CODES, WIDTH, 5, "A")
        for i in (2, 4, 6, 8):
            setattr(self, f"conv{i}", MaskedConv2d(WIDTH, 2 * WIDTH, 3, "B"))
            setattr(self, f"conv{i + 1}", nn.Conv2d(WIDTH, WIDTH, 1))
        self.conv10 = nn.Conv2d(WIDTH, 128, 1)
        self.conv11 = nn.Conv2d(128, CODES, 1)

    def forward(self, codes):
        """codes [n, 7, 7] (long) -> logits [n, CODES, 7, 7]"""
        h = self.r0(F.one_hot(codes, CODES).permute(0, 3, 1, 2).float())
        for i in (2, 4, 6, 8):
            a, b = getattr(self, f"conv{i}")(h).chunk(2, dim=1)
            h = h + getattr(self, f"conv{i + 1}")(torch.tanh(a) * torch.sigmoid(b))
        return self.conv11(F.relu(self.conv10(F.relu(h))))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.prior = Prior()


def codes_of(vqvae, images):
    """Each image's 7x7 grid of nearest codes (long)."""
    out = []
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            ze = vqvae.enc(images[i:i + 1000])
            _, idx = vq.quantise(vqvae.enc.codebook.weight, ze)
            out.append(idx.reshape(ze.shape[0], ze.shape[2], ze.shape[3]))
    return torch.cat(out)


def nll(model, codes):
    return F.cross_entropy(model.prior(codes), codes, reduction="sum")


def test_nll(model, test_codes):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(test_codes), 500):
            total += nll(model, test_codes[i:i + 500]).item()
    return total / len(test_codes)


def sample(model, vqvae, n):
    """n images: code grids drawn position by position (49 forwards), then
    decoded from the codes' values."""
    model.eval()
    codes = torch.zeros(n, 7, 7, dtype=torch.long)
    with torch.no_grad():
        for p in range(49):
            r, c = divmod(p, 7)
            probs = torch.softmax(model.prior(codes)[:, :, r, c], dim=1)
            codes[:, r, c] = torch.multinomial(probs, 1)[:, 0]
        zq = vqvae.enc.codebook.weight[codes].permute(0, 3, 1, 2)
        return vqvae.dec(zq)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vq", required=True, metavar="CKPT", help="vkvae's vqvae_conv checkpoint")
    add_run_options(ap)
    add_input_options(ap, "evaluate vkvae's pixelcnn_codes checkpoint")
    ap.add_argument("--png", default="pytorch_pixelcnn_codes_samples.png")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    vqvae = vq.Model()
    load_checkpoint(vqvae, a.vq)
    vqvae.eval()
    start = time.perf_counter()
    test_codes = codes_of(vqvae, load_images(a.data, "t10k-images-idx3-ubyte"))
    model = Model()
    if a.check:
        load_checkpoint(model, a.check)
        print(f"loaded {a.check} strictly (PyTorch {torch.__version__}); "
              f"test nll {test_nll(model, test_codes):.4f} nats/grid")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    if a.limit:
        train_x = train_x[:a.limit]
    train_codes = codes_of(vqvae, train_x)
    print(f"codes of {len(train_codes)} training and {len(test_codes)} test images in "
          f"{time.perf_counter() - start:.1f}s", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(train_codes))
        start = time.perf_counter()
        total = 0.0
        for i in range(0, len(train_codes), 64):
            opt.zero_grad()
            loss = nll(model, train_codes[order[i:i + 64]])
            loss.backward()
            opt.step()
            total += loss.item()
        seconds = time.perf_counter() - start
        n = len(train_codes)
        test = test_nll(model, test_codes)
        figures.append({"epoch": epoch, "seconds": seconds, "train_nll": total / n,
                        "test_nll": test})
        print(f"epoch {epoch}: train nll {total / n:.4f}  test nll {test:.4f} nats/grid  "
              f"{epoch_speed(seconds, n)}", flush=True)
    start = time.perf_counter()
    images = sample(model, vqvae, 64)
    sample_seconds = time.perf_counter() - start
    write_png(a.png, images)
    print(f"sampled 64 images in {sample_seconds:.2f}s: {a.png}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": "pixelcnn_codes", "torch": torch.__version__,
                       "threads": a.threads, "epochs": figures,
                       "sample64_seconds": sample_seconds}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
