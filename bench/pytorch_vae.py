#!/usr/bin/python3
"""The fair PyTorch peer: PyTorch's examples/vae, unchanged in substance, on
Fashion-MNIST, timed per epoch; and the twins of vkvae's colour conv VAEs.

What is the same as examples/vae/main.py: the model (784-400-20-400-784,
ReLU, sigmoid output), the loss (binary cross-entropy summed over pixels and
batch, plus the closed-form Gaussian KL), Adam lr 1e-3, batch 128, training
data shuffled every epoch, test data in order, seed 1, the reparameterization
drawing fresh noise in the test pass too, and the figures it prints: the
summed loss divided by the number of images (train: 60,000; test: 10,000).
The random stream is the example's as well: its DataLoader draws one int64
from the global generator per iterator (the workers' base seed) and, for the
shuffled train set, one more that seeds the permutation; we draw the same.

What differs, on purpose (BRIEF.md section 5, "A fair peer"): the data sits
in memory as two float tensors and batches are slices of them, instead of a
DataLoader collating 128 PIL images per step, which would time Python rather
than PyTorch. Images are grey levels / 255, as ToTensor gives, read from
Debian's IDX files by bench/twin_util.py (gzip + numpy), so no torchvision is
needed.

--model vae_conv / vae_conv32 / vae_conv64: the twins of models/vae_conv.vae
(Fashion-MNIST; its third layer has kernel 3, mirrored in the decoder),
models/vae_conv32.vae and models/vae_conv64.vae, layer for layer as `vkvae check MODEL --explain`
prints vkvae's graph: Conv2d (kernel 4, stride 2, padding 1) + ReLU per
encoder layer, flatten (C, H, W order), two separate Linear heads to mu and
logvar (fc11, fc12), Linear to the decoder's first map + ReLU (fc2), a view
to C x 4 x 4, ConvTranspose2d (kernel 4, stride 2, padding 1) + ReLU per
decoder layer, the last without activation: logits. Loss: binary cross-
entropy with logits summed over pixels and batch, plus the Gaussian KL
(the spec's Bernoulli likelihood on values in [0, 1], beta 1). Adam lr 1e-3,
batch 64, seed 1, PyTorch's default initialisation (uniform +-1/sqrt(fan_in)
for weights and biases, fan_in as PyTorch counts it for ConvTranspose2d:
out_channels x 16), which is vkvae's `init pytorch`. The data: a folder of
IDX files holding N x C x H x W bytes (magic 0x00000804; bench/
make_colour_set.py writes one), values / 255. --limit and --test-limit take
the first N images, as vkvae's flags of the same names do; the last batch of
an epoch is partial, as vkvae's is.

Run it through bench/peer_env.sh (OpenBLAS, passive OpenMP waiting) with
Debian's /usr/bin/python3 and python3-torch:
    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_vae.py --epochs 10
    . bench/peer_env.sh && /usr/bin/python3 bench/pytorch_vae.py --model vae_conv64 \
        --data /tmp/colour64 --epochs 1
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# bench/ on the path also where this file is loaded by its path (the tests
# load it with importlib for its VAE), not run as a script.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twin_util import DATA, load_images, median_summary, set_threads_and_seed  # noqa: E402


class VAE(nn.Module):
    """examples/vae/main.py's model, verbatim."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_terms(recon_x, x, mu, logvar):
    """The example's loss_function, split into its two terms."""
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce, kld


class ConvVAE(nn.Module):
    """The twin of vkvae's vae_conv32 / vae_conv64 (models/*.vae): stride-2
    4x4 convolutions down to 4x4, two dense heads, one dense up, the mirror
    of transposed convolutions; the decoder gives logits. The layers carry
    vkvae's parameter names (conv1.weight, fc11.bias, deconv4.weight, ...),
    so `vkvae export`'s file loads with a strict load_state_dict; they are
    created in the graph's order, which is the order PyTorch's init draws
    from the seeded generator."""

    def __init__(self, channels, size, widths, latent, kernels=None):
        super().__init__()
        self.latent = latent
        self.depth = len(widths)
        kernels = kernels or (4,) * self.depth
        c = channels
        for i, (w, k) in enumerate(zip(widths, kernels)):
            setattr(self, f"conv{i + 1}", nn.Conv2d(c, w, k, stride=2, padding=1))
            c = w
            size = (size + 2 - k) // 2 + 1
        self.top = (widths[-1], size, size)
        flat = widths[-1] * self.top[1] * self.top[2]
        self.fc11 = nn.Linear(flat, latent)
        self.fc12 = nn.Linear(flat, latent)
        self.fc2 = nn.Linear(latent, flat)
        # The decoder mirrors the encoder, kernels in reverse order.
        for i, (w, k) in enumerate(zip(list(reversed(widths[:-1])) + [channels],
                                       reversed(kernels))):
            setattr(self, f"deconv{i + 1}", nn.ConvTranspose2d(c, w, k, stride=2, padding=1))
            c = w

    def encode(self, x):
        h = x
        for i in range(1, self.depth + 1):
            h = F.relu(getattr(self, f"conv{i}")(h))
        h = h.flatten(1)
        return self.fc11(h), self.fc12(h)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode_logits(self, z):
        h = F.relu(self.fc2(z)).view(-1, *self.top)
        for i in range(1, self.depth):
            h = F.relu(getattr(self, f"deconv{i}")(h))
        return getattr(self, f"deconv{self.depth}")(h)

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def forward(self, x):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode_logits(z), mu, logvar

    @staticmethod
    def loss_terms(logits, x, mu, logvar):
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return bce, kld


# The models this script has twins of: input shape, latent, batch (the spec's).
MODELS = {
    "vae_mlp": {"shape": (1, 28, 28), "latent": 20, "batch": 128},
    "vae_conv": {"shape": (1, 28, 28), "latent": 32, "batch": 128,
                 "widths": (32, 64, 128, 256), "kernels": (4, 4, 3, 4)},
    "vae_conv32": {"shape": (3, 32, 32), "latent": 64, "batch": 64, "widths": (32, 64, 128)},
    "vae_conv64": {"shape": (3, 64, 64), "latent": 128, "batch": 64,
                   "widths": (32, 64, 128, 256)},
}


def make_model(name):
    m = MODELS[name]
    if name == "vae_mlp":
        model = VAE()
        model.loss_terms = loss_terms
        model.latent = m["latent"]
        return model
    c, h, w = m["shape"]
    return ConvVAE(c, h, m["widths"], m["latent"], m.get("kernels"))


def loader_base_seed():
    # _BaseDataLoaderIter.__init__ draws its workers' base seed from the
    # global generator even with num_workers=0.
    torch.empty((), dtype=torch.int64).random_()


def shuffled_order(n):
    # RandomSampler.__iter__ without a generator: seed a new one from the
    # global generator, then one randperm.
    seed = int(torch.empty((), dtype=torch.int64).random_().item())
    g = torch.Generator()
    g.manual_seed(seed)
    return torch.randperm(n, generator=g)


def sync(device):
    """Wait for a GPU's queued work, so a host clock read after it is true."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(model, opt, images, batch):
    model.train()
    loader_base_seed()
    order = shuffled_order(len(images)).to(images.device)
    total = 0.0
    for i in range(0, len(images), batch):
        data = images[order[i:i + batch]]
        opt.zero_grad()
        recon, mu, logvar = model(data)
        bce, kld = model.loss_terms(recon, data, mu, logvar)
        loss = bce + kld
        loss.backward()
        total += loss.item()
        opt.step()
    sync(images.device)
    return total / len(images)


def test_epoch(model, images, batch):
    model.eval()
    loader_base_seed()
    bce_sum = kld_sum = 0.0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            data = images[i:i + batch]
            recon, mu, logvar = model(data)
            bce, kld = model.loss_terms(recon, data, mu, logvar)
            bce_sum += bce.item()
            kld_sum += kld.item()
    n = len(images)
    return (bce_sum + kld_sum) / n, bce_sum / n, kld_sum / n


def sgemm_provider():
    """The file that libtorch_cpu's sgemm_ resolves to (dlsym + dladdr), or
    "". Mapping libopenblas is not enough: with the reference libblas first
    on the path, OpenBLAS's liblapack still maps libopenblas, yet sgemm_
    comes from netlib."""
    class DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                    ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]
    try:
        with open("/proc/self/maps") as f:
            torch_cpu = next(l.split()[-1] for l in f if "libtorch_cpu" in l)
        libc = ctypes.CDLL(None)
        libc.dlsym.restype = ctypes.c_void_p
        libc.dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        libc.dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        handle = ctypes.CDLL(torch_cpu, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)._handle
        addr = libc.dlsym(handle, b"sgemm_")
        info = DlInfo()
        if addr and libc.dladdr(addr, ctypes.byref(info)) and info.fname:
            return os.path.realpath(info.fname.decode())
    except (OSError, StopIteration, AttributeError):
        pass
    return ""


def blas_kind(path):
    if "openblas" in path:
        return "OpenBLAS"
    if "mkl" in path:
        return "MKL"
    if "/blas/libblas" in path:
        return "reference BLAS (netlib)"
    return "unknown"


def matmul_gflops(m=128, k=784, n=400, seconds=0.2):
    """GFLOP/s of the model's largest product, on throwaway tensors."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(m, k, generator=g), torch.rand(k, n, generator=g)
    a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    return 2 * m * k * n * reps / (time.perf_counter() - t0) / 1e9


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return "?", False
    model = next((l.split(":", 1)[1].strip() for l in info.splitlines()
                  if l.startswith("model name")), platform.processor() or "?")
    return model, " avx512f" in info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="vae_mlp",
                    help="which vkvae model's twin (default vae_mlp = examples/vae)")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--batch", type=int, help="batch size (default: the model's, "
                    "128 for vae_mlp and vae_conv, 64 for the colour conv models)")
    ap.add_argument("--limit", type=int, help="train on the first N images only")
    ap.add_argument("--test-limit", type=int, help="test on the first N images only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--samples", type=int, default=10000,
                    help="prior samples to time after training (0: skip)")
    ap.add_argument("--data", default=DATA, help="folder with the four IDX files")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--device", default="cpu",
                    help="cpu (default: the fair CPU peer) or cuda: the same model, data "
                         "and steps on an NVIDIA GPU, for tools/gpu_check.sh")
    ap.add_argument("--check-blas", action="store_true",
                    help="print the library sgemm_ comes from; exit 0 if OpenBLAS, else 1")
    args = ap.parse_args()
    if args.check_blas:
        torch.ones(4, 4) @ torch.ones(4, 4)
        provider = sgemm_provider()
        print(provider or "sgemm_ not found")
        sys.exit(0 if blas_kind(provider) == "OpenBLAS" else 1)

    if args.batch is None:
        args.batch = MODELS[args.model]["batch"]
    set_threads_and_seed(args)
    train = load_images(args.data, "train-images-idx3-ubyte")
    test = load_images(args.data, "t10k-images-idx3-ubyte")
    if args.limit is not None:
        train = train[:args.limit]
    if args.test_limit is not None:
        test = test[:args.test_limit]
    shape = MODELS[args.model]["shape"]
    if tuple(train.shape[1:]) != shape or tuple(test.shape[1:]) != shape:
        sys.exit(f"{args.data}: images are {tuple(train.shape[1:])} (test "
                 f"{tuple(test.shape[1:])}); {args.model} takes {shape}")

    model = make_model(args.model)
    device = torch.device(args.device)
    if device.type != "cpu":
        # The seeded init above ran on the CPU, as on the CPU peer; the data
        # and the model then live on the device (the shuffle stays on the CPU).
        model.to(device)
        train, test = train.to(device), test.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # Throwaway tensors with their own generator: the seeded stream is untouched.
    gflops = matmul_gflops()
    provider = sgemm_provider()
    blas = blas_kind(provider)
    cpu, avx512 = cpu_model()
    config = {
        "torch": torch.__version__,
        "blas": blas,
        "sgemm_from": provider,
        "matmul_128x784x400_gflops": gflops,
        "threads": torch.get_num_threads(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", ""),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
        "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH", ""),
        "nproc": os.cpu_count(),
        "model": args.model,
        "batch": args.batch,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu": cpu,
        "avx512": avx512,
        "data": args.data,
        "train_images": len(train),
        "test_images": len(test),
        "loadavg_start": os.getloadavg(),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }
    print(f"config: torch {config['torch']}, BLAS {blas} (sgemm_ from "
          f"{provider or '?'}, {gflops:.0f} GFLOP/s on 128x784x400), "
          f"threads {config['threads']}, OMP_WAIT_POLICY={config['OMP_WAIT_POLICY'] or 'unset'}, "
          f"OPENBLAS_CORETYPE={config['OPENBLAS_CORETYPE'] or 'unset'}, "
          f"{config['nproc']} CPUs ({cpu}, AVX-512 {'yes' if avx512 else 'no'}), "
          f"oneDNN {'yes' if config['mkldnn'] else 'no'}, device {config['device']}, "
          f"{args.model} batch {args.batch} "
          f"on {len(train)} / {len(test)} images", flush=True)
    if blas != "OpenBLAS" and device.type == "cpu":
        print("warning: not running on OpenBLAS; this is not the fair peer "
              "(source bench/peer_env.sh)", file=sys.stderr, flush=True)

    epochs = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        train_loss = train_epoch(model, opt, train, args.batch)
        t1 = time.perf_counter()
        nelbo, rec, kl = test_epoch(model, test, args.batch)
        t2 = time.perf_counter()
        epochs.append({"epoch": epoch, "train_loss": train_loss, "test_nelbo": nelbo,
                       "test_recon": rec, "test_kl": kl, "train_s": t1 - t0,
                       "test_s": t2 - t1})
        print(f"epoch {epoch}: train loss {train_loss:.4f}  test -ELBO {nelbo:.4f} nats "
              f"(recon {rec:.4f} + KL {kl:.4f})  train {t1 - t0:.3f} s  test {t2 - t1:.3f} s",
              flush=True)

    result = {"config": config, "epochs": epochs}
    config["loadavg_end"] = os.getloadavg()
    if epochs:
        result["train_s_median"], line = median_summary([e["train_s"] for e in epochs],
                                                         len(train))
        result["train_images"] = len(train)
        result["images_per_s_median"] = len(train) / result["train_s_median"]
        print(line)
    if args.samples > 0:
        model.eval()
        reps = []
        with torch.no_grad():
            for _ in range(6):   # the first one warms up
                t0 = time.perf_counter()
                z = torch.randn(args.samples, model.latent, device=device)
                x = model.decode(z)
                sync(device)
                reps.append(time.perf_counter() - t0)
        assert x.shape[0] == args.samples and x[0].numel() == int(np.prod(shape))
        result["sample_n"] = args.samples
        result["sample_s_median"] = statistics.median(reps[1:])
        result["sample_s_first"] = reps[0]
        print(f"sampling {args.samples} images from the prior: median "
              f"{1000 * result['sample_s_median']:.1f} ms over {len(reps) - 1} runs "
              f"(first {1000 * reps[0]:.1f} ms)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
