#!/usr/bin/env python3
"""vkvae on a user's own specs, compiled at run time (suite 'train'):

  test_own_spec.py VKVAE VKVAE_GEN SOURCE_ROOT API_CHECK

- Specs written here, outside models/ (an MLP VAE with another latent size,
  widths and a residual layer; a Gaussian-likelihood conv autoencoder; a
  conv VAE on 3x32x32 colour images, 277 of them in 4-d IDX files: the
  plan's data set is made for their count), train on lavapipe and on the CPU backend from the same seed, and the two
  loss curves agree within 1e-3 relative, as the built-in models' do;
  sample and reconstruct work on their checkpoints, on both backends.
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
import os
import subprocess
import sys
import tempfile

FASHION = "/usr/share/datasets/fashion-mnist"
failures = []

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


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


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
                             ("own_conv_rgb", CONV_RGB, colour)):
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
        bad_corpus(vkvae, gen, root, tmp, api_check)
        batch(vkvae, tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
