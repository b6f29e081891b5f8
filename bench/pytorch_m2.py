#!/usr/bin/python3
"""The PyTorch twin of vkvae's m2_mlp: Kingma et al. 2014's M2, a semi-
supervised VAE (a few labelled training images, the rest unlabelled),
timed per epoch, with the test classification error; and its baseline, the
classifier alone on the labelled images.

The same layers with vkvae's names, in the spec's order (cls, enc, dec;
PyTorch's default initialisation draws from the seeded generator in that
order): cls.fc1 = Linear(784, 500), ReLU; cls.fc2 = Linear(500, 10), the
logits of q(y|x). enc: x flattened, then the one-hot label (784 + 10);
enc.fc1 = Linear(794, 500), ReLU; enc.mu, enc.logvar = Linear(500, 50);
z = mu + exp(logvar / 2) * eps. dec: z, then the one-hot label (50 + 10);
dec.fc1 = Linear(60, 500), ReLU; dec.fc2 = Linear(500, 784), viewed as
1x28x28: Bernoulli logits.

Loss, summed over the batch's rows as vkvae sums. A row with a label y:
rec = binary cross-entropy with logits of dec(z, y) against x, summed over
pixels; kl = KL(q(z|x,y) || N(0, I)); ent = 0; class = cross-entropy of
q(y|x) against y. A row without one is evaluated for every class c (one
batched pass: the row repeated 10 times, labels 0..9): rec and kl are each
summed over c weighted by q(c|x) = softmax(cls(x))[c] (the weights carry
gradient into the classifier); ent = sum_c q_c log q_c (minus the
entropy); class = 0. Minimised: rec + kl + ent + alpha class, alpha 50.
Adam lr 3e-4, batch 100, 10 epochs, seed 1; fresh noise every pass.

The data as bench/pytorch_vae.py holds it (in memory, / 255). --labelled
FILE: the training-set indices whose labels are kept, one a line, as vkvae
writes them; without it, --labels N picks N balanced over the classes with
numpy's default_rng(seed): NOT vkvae's choice, so the two runs then see
different labelled images. An epoch: the unlabelled rows plus the labelled
rows repeated R = ceil(unlabelled / labelled) times (so about half of every
batch has a label), shuffled, in batches of 100, the last one partial. The
figures: train rec, kl, ent, class per row of that epoch; test rec, kl,
class per image on the 10,000 test images, all labelled; the test error
(argmax q(y|x) != label).

--classifier-only: the baseline, cls alone on cross-entropy over the
labelled rows (same Adam, epochs and batch), the labelled rows repeated and
shuffled to as many rows, so as many steps, per epoch as the M2 run takes:
what the unlabelled images buy is the difference of the two test errors.

--check CKPT: load a checkpoint vkvae wrote for m2_mlp with a strict
load_state_dict and print its test figures.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_m2.py --labelled runs/m2_mlp/labelled.txt
    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_m2.py --labels 100 --classifier-only
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twin_util import (add_input_options, add_run_options, epoch_speed,  # noqa: E402
                       load_checkpoint, load_images, load_labels, median_summary,
                       set_threads_and_seed)

CLASSES, LATENT, HIDDEN = 10, 50, 500


class Classifier(nn.Module):
    """q(y|x): logits."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class Encoder(nn.Module):
    """q(z|x,y): mu, logvar."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784 + CLASSES, HIDDEN)
        self.mu = nn.Linear(HIDDEN, LATENT)
        self.logvar = nn.Linear(HIDDEN, LATENT)

    def forward(self, x, onehot):
        h = F.relu(self.fc1(torch.cat([x.flatten(1), onehot], 1)))
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    """p(x|y,z): Bernoulli logits, 1x28x28."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(LATENT + CLASSES, HIDDEN)
        self.fc2 = nn.Linear(HIDDEN, 784)

    def forward(self, z, onehot):
        return self.fc2(F.relu(self.fc1(torch.cat([z, onehot], 1)))).view(-1, 1, 28, 28)


class M2(nn.Module):
    def __init__(self):
        super().__init__()
        self.cls = Classifier()
        self.enc = Encoder()
        self.dec = Decoder()


def m2_terms(model, x, y, has):
    """The four terms' sums over the rows of x (rec, kl, ent, class) and
    the classifier's logits. has[i]: row i's label y[i] is kept (y of the
    other rows is not read)."""
    logits = model.cls(x)
    logq = F.log_softmax(logits, 1)
    q = logq.exp()
    xl, yl = x[has], y[has]
    xu, qu, logqu = x[~has], q[~has], logq[~has]
    # One pass of enc and dec over the labelled rows, then each unlabelled
    # row once per class (row-major: row 0 with classes 0..9, row 1, ...).
    xs = torch.cat([xl, xu.repeat_interleave(CLASSES, 0)])
    ys = torch.cat([yl, torch.arange(CLASSES).repeat(len(xu))])
    onehot = F.one_hot(ys, CLASSES).float()
    mu, logvar = model.enc(xs, onehot)
    z = mu + (0.5 * logvar).exp() * torch.randn_like(mu)
    rec = F.binary_cross_entropy_with_logits(model.dec(z, onehot), xs,
                                             reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)
    # Weight 1 for a labelled row, q(c|x) for an unlabelled row's class c;
    # same row-major order as xs.
    w = torch.cat([torch.ones(len(xl)), qu.reshape(-1)])
    ent = (qu * logqu).sum()
    ce = F.cross_entropy(logits[has], yl, reduction="sum")  # 0 without labelled rows
    return (w * rec).sum(), (w * kl).sum(), ent, ce, logits


def read_labelled(path, n):
    """The indices of FILE (one a line; blank lines and # comments skipped)
    as a sorted long tensor; each must be a training row (< n), once."""
    idx = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                i = int(text)
            except ValueError:
                sys.exit(f"{path}:{lineno}: not an index: {text!r}")
            if not 0 <= i < n:
                sys.exit(f"{path}:{lineno}: index {i} outside the {n} training images "
                         f"(--limit?)")
            idx.append(i)
    if len(set(idx)) != len(idx):
        sys.exit(f"{path}: an index appears twice")
    return torch.tensor(sorted(idx), dtype=torch.long)


def pick_labelled(labels, n, seed):
    """n indices balanced over the classes (the first n % 10 classes get one
    more), each class's drawn without replacement by numpy's
    default_rng(seed) in class order. Not vkvae's choice."""
    rng = np.random.default_rng(seed)
    y = labels.numpy()
    idx = []
    for c in range(CLASSES):
        want = n // CLASSES + (c < n % CLASSES)
        pool = np.flatnonzero(y == c)
        if want > len(pool):
            sys.exit(f"--labels {n}: class {c} has only {len(pool)} training images")
        idx.extend(rng.choice(pool, want, replace=False).tolist())
    return torch.tensor(sorted(idx), dtype=torch.long)


def evaluate(model, test_x, test_y, batch=1000):
    """Test rec, kl, class per image and the error; every row labelled."""
    model.eval()
    sums, wrong = [0.0] * 3, 0
    has = torch.ones(batch, dtype=torch.bool)
    with torch.no_grad():
        for i in range(0, len(test_x), batch):
            x, y = test_x[i:i + batch], test_y[i:i + batch]
            rec, kl, _, ce, logits = m2_terms(model, x, y, has[:len(x)])
            for k, v in enumerate((rec, kl, ce)):
                sums[k] += v.item()
            wrong += (logits.argmax(1) != y).sum().item()
    n = len(test_x)
    return {"test_rec": sums[0] / n, "test_kl": sums[1] / n, "test_class": sums[2] / n,
            "test_error": wrong / n}


def test_error(cls, test_x, test_y, batch=1000):
    cls.eval()
    wrong = 0
    with torch.no_grad():
        for i in range(0, len(test_x), batch):
            wrong += (cls(test_x[i:i + batch]).argmax(1) != test_y[i:i + batch]).sum().item()
    return wrong / len(test_x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--alpha", type=float, default=50.0, help="the class term's weight")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--labelled", metavar="FILE",
                    help="the training indices whose labels are kept (vkvae's file)")
    ap.add_argument("--labels", type=int, default=100,
                    help="without --labelled: keep N labels, balanced, picked by "
                         "numpy's default_rng(seed) (not vkvae's choice)")
    ap.add_argument("--classifier-only", action="store_true",
                    help="the baseline: train cls alone on the labelled rows")
    add_input_options(ap, "evaluate vkvae's m2_mlp checkpoint")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    test_x = load_images(a.data, "t10k-images-idx3-ubyte")
    test_y = load_labels(a.data, "t10k-labels-idx1-ubyte")
    model = M2()
    if a.check:
        load_checkpoint(model, a.check)
        t = evaluate(model, test_x, test_y)
        print(f"loaded {a.check} strictly (PyTorch {torch.__version__}); test rec "
              f"{t['test_rec']:.4f} kl {t['test_kl']:.4f} class {t['test_class']:.4f}  "
              f"error {100 * t['test_error']:.2f}%")
        return 0
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    train_y = load_labels(a.data, "train-labels-idx1-ubyte")
    if a.limit:
        train_x, train_y = train_x[:a.limit], train_y[:a.limit]
    n = len(train_x)
    if a.labelled:
        labelled = read_labelled(a.labelled, n)
        source = a.labelled
    else:
        labelled = pick_labelled(train_y, a.labels, a.seed)
        source = f"default_rng({a.seed}), not vkvae's choice"
    if len(labelled) == 0:
        sys.exit("no labelled rows")
    is_labelled = torch.zeros(n, dtype=torch.bool)
    is_labelled[labelled] = True
    unlabelled = torch.arange(n)[~is_labelled]
    # R >= 1, also when every row is labelled.
    repeat = max(1, math.ceil(len(unlabelled) / len(labelled)))
    rows = torch.cat([unlabelled, labelled.repeat(repeat)])
    has = torch.cat([torch.zeros(len(unlabelled), dtype=torch.bool),
                     torch.ones(len(labelled) * repeat, dtype=torch.bool)])
    per_epoch = len(rows)
    steps = math.ceil(per_epoch / a.batch)
    what = "classifier only" if a.classifier_only else "m2_mlp"
    print(f"{what}: {len(labelled)} labelled ({source}), {len(unlabelled)} unlabelled; "
          f"{per_epoch} rows ({repeat}x the labelled) = {steps} steps an epoch; "
          f"{len(test_x)} test images; PyTorch {torch.__version__}, {a.threads} threads",
          flush=True)

    params = model.cls.parameters() if a.classifier_only else model.parameters()
    opt = torch.optim.Adam(params, lr=a.lr)
    if a.classifier_only:
        # As many rows as the M2 epoch, all labelled: the labelled set
        # repeated enough times, shuffled, cut to per_epoch.
        pool = labelled.repeat(math.ceil(per_epoch / len(labelled)))
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        start = time.perf_counter()
        if a.classifier_only:
            order = pool[torch.randperm(len(pool))[:per_epoch]]
            total = 0.0
            for i in range(0, per_epoch, a.batch):
                idx = order[i:i + a.batch]
                opt.zero_grad()
                loss = F.cross_entropy(model.cls(train_x[idx]), train_y[idx], reduction="sum")
                loss.backward()
                opt.step()
                total += loss.item()
            seconds = time.perf_counter() - start
            row = {"epoch": epoch, "seconds": seconds, "train_class": total / per_epoch,
                   "test_error": test_error(model.cls, test_x, test_y)}
            print(f"epoch {epoch}: train class {row['train_class']:.4f}  test error "
                  f"{100 * row['test_error']:.2f}%  {epoch_speed(seconds, per_epoch)}",
                  flush=True)
        else:
            order = torch.randperm(per_epoch)
            sums = [0.0] * 4
            for i in range(0, per_epoch, a.batch):
                pick = order[i:i + a.batch]
                idx = rows[pick]
                terms = m2_terms(model, train_x[idx], train_y[idx], has[pick])[:4]
                rec, kl, ent, ce = terms
                opt.zero_grad()
                (rec + kl + ent + a.alpha * ce).backward()
                opt.step()
                for k, v in enumerate(terms):
                    sums[k] += v.item()
            seconds = time.perf_counter() - start
            row = {"epoch": epoch, "seconds": seconds}
            row.update({f"train_{name}": s / per_epoch
                        for name, s in zip(("rec", "kl", "ent", "class"), sums)})
            row.update(evaluate(model, test_x, test_y))
            print(f"epoch {epoch}: train rec {row['train_rec']:.4f} kl {row['train_kl']:.4f} "
                  f"ent {row['train_ent']:.4f} class {row['train_class']:.4f}  test rec "
                  f"{row['test_rec']:.4f} kl {row['test_kl']:.4f} class "
                  f"{row['test_class']:.4f}  test error {100 * row['test_error']:.2f}%  "
                  f"{epoch_speed(seconds, per_epoch)}", flush=True)
        figures.append(row)

    result = {"model": "m2_mlp", "classifier_only": a.classifier_only,
              "torch": torch.__version__, "threads": a.threads, "labelled": len(labelled),
              "labelled_from": source, "unlabelled": len(unlabelled),
              "rows_per_epoch": per_epoch, "epochs": figures}
    if figures:
        result["train_s_median"], line = median_summary([r["seconds"] for r in figures],
                                                         per_epoch)
        print(f"{what}: test error {100 * figures[-1]['test_error']:.2f}% after "
              f"{len(figures)} epochs; {line}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
