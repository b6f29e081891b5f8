#!/usr/bin/python3
"""The PyTorch twin of vkvae's classifier_conv (models/classifier_conv.vae),
timed per epoch, and a cross-check of vkvae's checkpoint.

The same layers with vkvae's names, in the graph's order (`vkvae check
classifier_conv --explain`): conv1 = Conv2d(1, 32, 4, stride 2, padding 1,
bias=False), bn1 = BatchNorm2d(32), ReLU; conv2 = Conv2d(32, 64, 4, 2, 1,
bias=False), bn2 = BatchNorm2d(64), ReLU; flatten (C, H, W order); fc1 =
Linear(3136, 128, bias=False), bn3 = BatchNorm1d(128), ReLU; fc2 =
Linear(128, 10), the logits. Loss: cross-entropy summed over the batch
(vkvae sums its losses; Adam barely notices the scale). Adam lr 1e-3, batch
128, 5 epochs, seed 1, PyTorch's default initialisation (vkvae's `init
pytorch`; batch norm's weight 1, bias 0). The data as bench/pytorch_vae.py
holds it: in memory as float tensors / 255, batches sliced in a shuffled
order each epoch, the last one partial; model.train() for training,
model.eval() (the running averages) for the test accuracy.

--check CKPT: load a checkpoint vkvae wrote for classifier_conv into this
model with a strict load_state_dict (batch norm's num_batches_tracked is
not in it; PyTorch fills it in) and print its test accuracy in eval mode:
`vkvae eval CKPT` prints the same figure.

    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_classifier.py --epochs 5
    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_classifier.py \\
        --check runs/classifier_conv/checkpoint.safetensors
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
                       load_checkpoint, load_images, load_labels, set_threads_and_seed)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128, bias=False)
        self.bn3 = nn.BatchNorm1d(128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = F.relu(self.bn3(self.fc1(h.flatten(1))))
        return self.fc2(h)


def accuracy(model, images, labels, batch=1000):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            right += (model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum().item()
    return right / len(images)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_run_options(ap, epochs=5, limit=False)
    add_input_options(ap, "evaluate vkvae's checkpoint instead")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    set_threads_and_seed(a)
    train_x = load_images(a.data, "train-images-idx3-ubyte")
    train_y = load_labels(a.data, "train-labels-idx1-ubyte")
    test_x = load_images(a.data, "t10k-images-idx3-ubyte")
    test_y = load_labels(a.data, "t10k-labels-idx1-ubyte")
    model = Classifier()
    if a.check:
        load_checkpoint(model, a.check)
        acc = accuracy(model, test_x, test_y)
        print(f"accuracy {100 * acc:.2f}% ({round(acc * len(test_x))} of {len(test_x)} test "
              f"images; PyTorch {torch.__version__}, eval mode)")
        return 0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    figures = []
    for epoch in range(1, a.epochs + 1):
        model.train()
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        total = 0.0
        for i in range(0, len(train_x), 128):
            idx = order[i:i + 128]
            opt.zero_grad()
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx], reduction="sum")
            loss.backward()
            opt.step()
            total += loss.item()
        seconds = time.perf_counter() - start
        acc = accuracy(model, test_x, test_y)
        figures.append({"epoch": epoch, "seconds": seconds, "train_ce": total / len(train_x),
                        "test_accuracy": acc})
        print(f"epoch {epoch}: train {total / len(train_x):.4f} nats/image  test accuracy "
              f"{100 * acc:.2f}%  {epoch_speed(seconds, len(train_x))}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": "classifier_conv", "torch": torch.__version__,
                       "threads": a.threads, "epochs": figures}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
