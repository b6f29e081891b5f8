#!/usr/bin/env python3
"""vkvae on a user's own specs, compiled at run time (suite 'train'):

  test_own_spec.py VKVAE VKVAE_GEN SOURCE_ROOT API_CHECK

- Specs written here, outside models/ (an MLP VAE with another latent size,
  widths and a residual layer; a Gaussian-likelihood conv autoencoder; a
  conv VAE on 3x32x32 colour images, 277 of them in 4-d IDX files: the
  plan's data set is made for their count; a conv VAE with batch norms and
  layers without bias), train on lavapipe and on the CPU backend from the same seed, and the two
  loss curves agree within 1e-3 relative, as the built-in models' do;
  sample and reconstruct work on their checkpoints, on both backends.
- The batch-norm model's checkpoint has PyTorch's BatchNorm names and
  shapes, its running variances moved, and --resume continues it exactly.
- Every spec of the bad-spec corpus (tests/specs/bad) through `vkvae train`,
  `vkvae check` and the C API's vkvae_spec_check (API_CHECK prints what it
  returns) gives exactly what `vkvae-gen --check` prints, exits 1,
  and train writes no output folder; `vkvae check --explain` prints what
  `vkvae-gen --explain` does; a spec with the parts once not generated
  (variance fixed 0.1, init xavier_uniform) checks and compiles, exit 0.
- --batch: a built-in model trains at another batch (the plan is made for
  it); one past the device's storage-buffer limit is refused naming it.
"""
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

from cli_test import check, failures

FASHION = "/usr/share/datasets/fashion-mnist"
MLP = """# a user's own model: not in models/
model own_mlp
input 1x28x28 range 0..1 likelihood bernoulli
latent 7 gaussian
encoder
  flatten
  dense 96 tanh
  dense 96 relu residual
decoder
  dense 64 softplus
  dense 784
  reshape 1x28x28
objective elbo beta 1
train adam lr 2e-3 batch 50 epochs 2 seed 9
"""

CONV = """# a convolutional autoencoder with a Gaussian likelihood's L2 loss
model own_conv_ae
input 1x28x28 range 0..1
latent 10 deterministic
encoder
  conv2d 8 kernel 4 stride 2 pad 1 relu      # 8x14x14
  conv2d 8 kernel 3 pad 1 relu residual       # 8x14x14
  flatten
decoder
  dense 392 relu
  reshape 8x7x7
  convt2d 8 kernel 4 stride 2 pad 1 relu      # 8x14x14
  convt2d 1 kernel 4 stride 2 pad 1           # 1x28x28
objective ae loss l2
train adam lr 1e-3 batch 32 epochs 2 seed 3
"""


# a convolutional VAE on colour images (3x32x32), read from 4-d IDX files
CONV_RGB = """model own_conv_rgb
input 3x32x32 range 0..1 likelihood bernoulli
latent 12 gaussian
encoder
  conv2d 16 kernel 4 stride 2 pad 1 relu     # 16x16x16
  conv2d 32 kernel 4 stride 2 pad 1 relu     # 32x8x8
  flatten
decoder
  dense 2048 relu
  reshape 32x8x8
  convt2d 16 kernel 4 stride 2 pad 1 relu    # 16x16x16
  convt2d 3 kernel 4 stride 2 pad 1          # 3x32x32
objective elbo
train adam lr 1e-3 batch 32 epochs 2 seed 5
"""


# DCGAN's pattern: convolutions without bias, then batch normalisation and
# the activation (BatchNorm2d on feature maps, BatchNorm1d on features)
CONV_BN = """model own_conv_bn
input 1x28x28 range 0..1 likelihood bernoulli
latent 8 gaussian
encoder
  conv2d 16 kernel 4 stride 2 pad 1 nobias   # 16x14x14
  batchnorm leaky_relu 0.2
  conv2d 32 kernel 4 stride 2 pad 1 nobias   # 32x7x7
  batchnorm leaky_relu 0.2
  flatten
decoder
  dense 128 nobias
  batchnorm relu
  dense 1568 relu
  reshape 32x7x7
  convt2d 16 kernel 4 stride 2 pad 1 nobias  # 16x14x14
  batchnorm relu
  convt2d 1 kernel 4 stride 2 pad 1          # 1x28x28
objective elbo
train adam lr 1e-3 batch 32 epochs 2 seed 4
"""


def write_idx(path, dims, data):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]))
        for d in dims:
            f.write(d.to_bytes(4, "big"))
        f.write(bytes(data))


def colour_set(folder, train=277, test=64):
    """A small colour data set in the MNIST layout, 4-d IDX images (N x 3 x 32 x 32):
    each image a colour gradient with a bright square whose place is its label."""
    os.makedirs(folder, exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        pixels, labels = bytearray(), bytearray()
        for i in range(n):
            label = (i * 7) % 4
            y0, x0 = 4 + 14 * (label // 2), 4 + 14 * (label % 2)
            for c in range(3):
                for y in range(32):
                    for x in range(32):
                        v = (x * (c + 1) * 4 + y * (3 - c) * 3 + i * 11) % 160
                        if y0 <= y < y0 + 10 and x0 <= x < x0 + 10:
                            v = 200 + (c * 20 + i) % 55
                        pixels.append(v)
            labels.append(label)
        write_idx(f"{folder}/{prefix}-images-idx3-ubyte", [n, 3, 32, 32], pixels)
        write_idx(f"{folder}/{prefix}-labels-idx1-ubyte", [n], labels)


def run(*args, env=None):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def train_losses(path):
    with open(path) as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    head = rows[0]
    col = head.index("train_loss") if "train_loss" in head else 1
    return [float(r[col]) for r in rows[1:]]


def own_specs(vkvae, tmp):
    colour = f"{tmp}/colour"
    colour_set(colour)
    for name, text, data in (("own_mlp", MLP, FASHION), ("own_conv_ae", CONV, FASHION),
                             ("own_conv_rgb", CONV_RGB, colour), ("own_conv_bn", CONV_BN, FASHION)):
        common = ["--data", data, "--limit", "400", "--test-limit", "100", "--samples", "0"]
        spec = f"{tmp}/{name}.vae"
        with open(spec, "w") as f:
            f.write(text)
        rc1, _, e1 = run(vkvae, "train", spec, "--out", f"{tmp}/{name}-gpu", *common)
        rc2, _, e2 = run(vkvae, "train", spec, "--device", "cpu", "--out", f"{tmp}/{name}-cpu",
                         *common)
        check(rc1 == 0 and rc2 == 0, f"{name}: trains from its own spec on lavapipe and the CPU "
              f"backend (exit {rc1} {rc2}: {(e1 + e2).strip()[-300:]})")
        if rc1 or rc2:
            continue
        gpu = train_losses(f"{tmp}/{name}-gpu/metrics.csv")
        cpu = train_losses(f"{tmp}/{name}-cpu/metrics.csv")
        worst = max(abs(g - c) / abs(c) for g, c in zip(gpu, cpu)) if gpu and cpu else 1
        check(len(gpu) == len(cpu) == 2 and worst < 1e-3,
              f"{name}: the GPU's loss curve follows the CPU's ({gpu} / {cpu}, worst {worst:.1e})")
        ckpt = f"{tmp}/{name}-gpu/checkpoint.safetensors"
        for device in ([], ["--device", "cpu"]):
            rc, _, e = run(vkvae, "sample", ckpt, "-n", "8", "-o", f"{tmp}/{name}-s.png", *device)
            if "gaussian" in text:
                check(rc == 0 and os.path.getsize(f"{tmp}/{name}-s.png") > 0,
                      f"{name}: sample on its checkpoint {' '.join(device)} (exit {rc}: "
                      f"{e.strip()})")
            else:  # an autoencoder has no prior to sample: one line says so
                check(rc == 11 and "no sample program" in e and len(e.strip().splitlines()) == 1,
                      f"{name}: sample refused in one line {' '.join(device)} (exit {rc}: "
                      f"{e.strip()})")
            rc, _, e = run(vkvae, "reconstruct", ckpt, "--data", data, "-o",
                           f"{tmp}/{name}-r.png", *device)
            check(rc == 0, f"{name}: reconstruct on its checkpoint {' '.join(device)} "
                  f"(exit {rc}: {e.strip()})")


def read_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def batchnorm(vkvae, tmp):
    """own_conv_bn's checkpoint (from own_specs) holds each batch norm as
    PyTorch's BatchNorm2d/1d state_dict does (weight, bias, running_mean,
    running_var of [C]) and no bias for a 'nobias' layer; the running
    variances moved from their start at 1; and one epoch then --resume
    equals two straight (the running averages restored with the rest)."""
    header = read_header(f"{tmp}/own_conv_bn-gpu/checkpoint.safetensors")
    want = {"bn1": 16, "bn2": 32, "bn3": 128, "bn4": 16}
    ok = all(header.get(f"{bn}.{what}", {}).get("shape") == [c]
             for bn, c in want.items() for what in ("weight", "bias", "running_mean", "running_var"))
    check(ok and "conv1.bias" not in header and "conv1.weight" in header
          and "deconv1.bias" not in header and "deconv2.bias" in header
          and "optim.m.bn1.weight" in header and "optim.m.bn1.running_mean" not in header,
          f"batch norm and nobias layers checkpoint under PyTorch's names ({sorted(header)[:12]}...)")
    body = read_bytes(f"{tmp}/own_conv_bn-gpu/checkpoint.safetensors")
    start = 8 + struct.unpack("<Q", body[:8])[0]
    lo, hi = header["bn1.running_var"]["data_offsets"]
    var = struct.unpack(f"<{(hi - lo) // 4}f", body[start + lo:start + hi])
    check(all(v > 0 for v in var) and any(abs(v - 1) > 1e-3 for v in var),
          f"bn1.running_var moved from 1 and stays positive ({var[:4]}...)")
    spec = f"{tmp}/own_conv_bn.vae"
    common = ["--data", FASHION, "--limit", "200", "--test-limit", "50", "--samples", "0",
              "--device", "cpu"]
    rc1, _, e1 = run(vkvae, "train", spec, "--epochs", "2", "--out", f"{tmp}/bn-straight", *common)
    rc2, _, e2 = run(vkvae, "train", spec, "--epochs", "1", "--out", f"{tmp}/bn-resumed", *common)
    rc3, _, e3 = run(vkvae, "train", spec, "--epochs", "2", "--out", f"{tmp}/bn-resumed",
                     "--resume", f"{tmp}/bn-resumed/checkpoint.safetensors", *common)
    same = rc1 == rc2 == rc3 == 0 and read_bytes(f"{tmp}/bn-straight/checkpoint.safetensors") == \
        read_bytes(f"{tmp}/bn-resumed/checkpoint.safetensors")
    check(same, f"own_conv_bn: 1 epoch then --resume equals 2 straight (exit {rc1} {rc2} {rc3}: "
          f"{(e1 + e2 + e3).strip()[-300:]})")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def bad_corpus(vkvae, gen, root, tmp, api_check):
    specs = sorted(glob.glob(f"{root}/tests/specs/bad/*.vae"))
    same = 0
    for spec in specs:
        out = f"{tmp}/bad-out"
        rc, _, e = run(vkvae, "train", spec, "--out", out)
        grc, _, ge = run(gen, spec, "--check")
        crc, _, ce = run(vkvae, "check", spec)
        arc, _, ae = run(api_check, spec)
        ok = (rc == 1 and grc == 1 and crc == 1 and arc == 1 and e == ge and ce == ge and
              ae == ge and not os.path.exists(out))
        if not ok:
            check(False, f"{os.path.basename(spec)}: vkvae train exit {rc}, vkvae-gen exit {grc}, "
                  f"vkvae_spec_check {arc}; train said {e.strip()[:200]!r}, vkvae-gen "
                  f"{ge.strip()[:200]!r}, the C API {ae.strip()[:200]!r}; "
                  f"out folder {'written' if os.path.exists(out) else 'absent'}")
        same += ok
    check(len(specs) > 70 and same == len(specs),
          f"{same} of {len(specs)} bad specs: vkvae train, vkvae check and the C API's "
          "vkvae_spec_check give vkvae-gen's diagnostics and exit 1, train writes nothing")
    for model in ("vae_mlp", "vae_conv", "iwae_mlp", "cvae_mlp"):
        spec = f"{root}/models/{model}.vae"
        rc, out, _ = run(vkvae, "check", spec, "--explain")
        grc, gout, _ = run(gen, spec, "--explain")
        check(rc == 0 and grc == 0 and out == gout and "program train" in out,
              f"vkvae check --explain {model}: vkvae-gen --explain's text ({len(out)} bytes)")
    rc, out, e = run(vkvae, "check", f"{root}/tests/specs/good/gauss_fixed.vae")
    check(rc == 0 and not e.strip(),
          f"variance fixed 0.1 and init xavier_uniform check and compile: exit {rc} ({e.strip()})")


def batch(vkvae, tmp):
    rc, _, e = run(vkvae, "train", "vae_mlp", "--batch", "256", "--device", "cpu", "--epochs",
                   "1", "--data", FASHION, "--limit", "1024", "--test-limit", "256",
                   "--samples", "0", "--out", f"{tmp}/b256")
    losses = train_losses(f"{tmp}/b256/metrics.csv") if rc == 0 else []
    check(rc == 0 and len(losses) == 1 and 300 < losses[0] < 600,
          f"vae_mlp --batch 256 trains (exit {rc}, loss {losses}: {e.strip()[-200:]})")
    # (the storage-buffer range clamped to Vulkan's minimum, 128 MiB, as
    # lavapipe's is; a GPU's may hold the whole batch)
    rc, _, e = run(vkvae, "train", "vae_mlp", "--batch", "60000", "--epochs", "1",
                   "--data", FASHION, "--out", f"{tmp}/bbig", env=dict(os.environ, VKVAE_LIMITS="minimum"))
    check(rc == 5 and "maxStorageBufferRange" in e and not os.path.exists(f"{tmp}/bbig"),
          f"a batch past the device's buffer limit is refused naming it (exit {rc}: "
          f"{e.strip()[-200:]})")


def main():
    vkvae, gen, root, api_check = sys.argv[1:5]
    with tempfile.TemporaryDirectory(prefix="vkvae-own-") as tmp:
        own_specs(vkvae, tmp)
        batchnorm(vkvae, tmp)
        bad_corpus(vkvae, gen, root, tmp, api_check)
        batch(vkvae, tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
