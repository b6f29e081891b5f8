#!/usr/bin/env python3
"""A performance model on paper: each built-in model's training step and
epoch on named GPUs, from what `vkvae bench --json` counts per dispatch
(FLOPs, bytes moved, workgroups) and each GPU's peak figures.

    bench/predict.py BENCH.json [BENCH.json ...] [--measured DIR]

A BENCH.json may also be `vkvae bench MODEL --audit --json`'s (the same
counts, no times, at any --batch: its epoch is 60,000 images at that batch).

Per dispatch, the longest of three times:
  - arithmetic: FLOPs / (peak fp32 FMA rate x E_FLOP), stretched by
    OCCUPANCY x CUs / workgroups when the grid is too small to keep every
    compute unit busy (a one-workgroup weight gradient runs on one CU of
    132);
  - memory: bytes / (bandwidth x E_MEM);
  - a floor: the launch and barrier cost of one dispatch in a recorded
    command buffer (FLOOR_US, per kind of GPU).
A step is the sum (dispatches are separated by barriers, so they do not
overlap); an epoch is steps x step. E_FLOP is what our own 1024^3 product
reaches of the FMA roof on the H200 (24%: BENCHMARKS.md), E_MEM a copy's
usual share. The GPUs' figures are datasheet leads (fp32 FMA rate, memory
bandwidth, compute units), not measurements.

--measured DIR: a tools/gpu_check.sh output folder; its bench_*.json hold
measured step times of one device (its "device" name must match a row
below), printed beside the prediction for that device, as a check.
"""
import argparse
import glob
import json
import os

E_FLOP = 0.24   # our tiled product at 1024^3 on the H200: 11.2 of 47.1 TFLOP/s
E_MEM = 0.7
# Workgroups a compute unit needs resident before it is busy: fitted to the
# H200's measured steps (1: predictions 2-3x short; 2: within 0.6-0.85 of
# vae_mlp, vae_conv32 and vae_conv64; 4: conv32 1.7x long).
OCCUPANCY = 2

# name: (fp32 TFLOP/s, GB/s, compute units, floor us per dispatch, match)
GPUS = {
    "NVIDIA H200 (SXM, measured roof)": (47.1, 4300, 132, 4.0, "H200"),
    "Intel Iris Xe iGPU (96 EU)": (2.1, 68, 96, 8.0, "Iris"),
    "AMD Radeon RX 7600 (32 CU)": (10.9, 288, 32, 5.0, "7600"),
    "Phone: Mali-G715 MC11 class": (1.6, 51, 11, 15.0, "Mali"),
}


def dispatch_us(k, gpu):
    tflops, gbs, cus, floor, _ = gpu
    groups = max(1, k.get("groups", cus))
    fill = max(1.0, OCCUPANCY * cus / groups)   # too few workgroups: idle CUs
    t_flop = k["flops"] / (tflops * 1e12 * E_FLOP) * fill * 1e6
    t_mem = k["bytes"] / (gbs * 1e9 * E_MEM) * 1e6
    return max(t_flop, t_mem, floor)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench", nargs="+", help="vkvae bench --json files")
    ap.add_argument("--measured", help="a tools/gpu_check.sh output folder")
    args = ap.parse_args()
    measured = {}
    if args.measured:
        for path in glob.glob(os.path.join(args.measured, "bench_*.json")):
            b = json.load(open(path))
            if b.get("precision", "fp32") == "fp32":
                measured[b["model"]] = (b["device"], b["train_step"]["step_ms"])
    print("| model | " + " | ".join(GPUS) + " |")
    print("|---|" + "---:|" * len(GPUS))
    for path in args.bench:
        b = json.load(open(path))
        if b.get("precision", "fp32") != "fp32":
            continue
        if "steps" in b:   # an audit: its dispatches, at its batch
            kernels, steps = b["steps"], -(-60000 // b["batch"])
        else:
            st = b["train_step"]   # bench's epoch: 60,000 images at the model's batch
            kernels = b["kernels"]
            steps = round(st["epoch_s"] * 1000 / st["step_ms"]) if st.get("step_ms") else 0
        cells = []
        for name, gpu in GPUS.items():
            ms = sum(dispatch_us(k, gpu) for k in kernels) / 1000
            cell = f"{ms:.2f} ms"
            if steps:
                cell += f" ({ms * steps / 1000:.2f} s/epoch)"
            m = measured.get(b["model"])
            if m and gpu[4].lower() in m[0].lower():
                cell += f"; measured {m[1]:.2f} ms"
            cells.append(cell)
        print(f"| {b['model']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
