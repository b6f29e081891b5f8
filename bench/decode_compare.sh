#!/bin/sh
# Decoding a folder of JPEGs into a model's input: vkvae's loader (libjpeg-turbo,
# our area/bilinear resize, centre crop; cache off) against the PyTorch way
# (torchvision's ImageFolder pipeline written out with PIL: open, convert to
# RGB, Resize(shorter side) with antialiasing, CenterCrop, to a uint8 array),
# single-threaded both, in alternating rounds on the same folder.
#   bench/decode_compare.sh VKVAE FOLDER [ROUNDS]
# Prints each round's images/s and the median ratio. The model (vae_conv64,
# 3x64x64) only sets the target size; one step of training follows the load.
set -eu
vkvae=$1 folder=$2 rounds=${3:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/pil_load.py" <<'PY'
import os, sys, time
import numpy as np
from PIL import Image
root, side = sys.argv[1], 64
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
               if f.lower().endswith((".jpg", ".jpeg", ".png")))
t = time.perf_counter()
out = np.empty((len(files), side, side, 3), np.uint8)
for i, path in enumerate(files):
    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = side / min(w, h)
        im = im.resize((max(side, round(w * s)), max(side, round(h * s))), Image.BILINEAR)
        w, h = im.size
        l, u = (w - side) // 2, (h - side) // 2
        out[i] = np.asarray(im.crop((l, u, l + side, u + side)))
print(f"{len(files) / (time.perf_counter() - t):.1f}")
PY
i=0
while [ "$i" -lt "$rounds" ]; do
    ours=$("$vkvae" train vae_conv64 --data "$folder" --cache off --epochs 1 --limit 64 \
               --test-limit 64 --samples 0 --device cpu --out "$tmp/run$i" 2>&1 |
           sed -n 's/.*decoding images \([0-9]*\)\/\1 \([0-9.]*\) img\/s.*/\2/p' | tail -n 1)
    peer=$(OMP_NUM_THREADS=1 /usr/bin/python3 "$tmp/pil_load.py" "$folder")
    echo "round $((i + 1)): vkvae $ours img/s, PIL $peer img/s, ratio $(echo "$ours $peer" |
        awk '{printf "%.2f", $1 / $2}')  (load $(cut -d' ' -f1 /proc/loadavg))"
    i=$((i + 1))
done
