# Source this (". bench/peer_env.sh") before running the PyTorch peer: it sets
# the environment BRIEF.md section 5 ("A fair peer") calls PyTorch at its best
# on this machine, without touching the system's BLAS alternatives.
#   - Debian's python3-torch calls whatever libblas.so.3 resolves to; we put
#     libopenblas0-pthread's folder first on LD_LIBRARY_PATH.
#   - OMP_WAIT_POLICY=PASSIVE: otherwise OpenMP and OpenBLAS threads spin
#     against each other (about 3x slower on 2 cores).
#   - OPENBLAS_CORETYPE unset: OpenBLAS picks its kernels from the CPU
#     (SkylakeX on AVX-512 machines); a preset Haswell halves its speed.
# Then it checks that a torch process really maps libopenblas, and says so
# loudly when it does not. PEER_ENV_QUIET=1 silences the success line;
# PEER_ENV_SKIP_CHECK=1 skips the check (it costs a torch import, ~1 s).

PEER_BLAS_DIR=/usr/lib/x86_64-linux-gnu/openblas-pthread
PEER_PYTHON=${PEER_PYTHON:-/usr/bin/python3}   # Debian's, which has python3-torch

if [ ! -e "$PEER_BLAS_DIR/libblas.so.3" ]; then
    echo "peer_env.sh: WARNING: $PEER_BLAS_DIR/libblas.so.3 missing:" \
         "apt-get install libopenblas0-pthread" >&2
fi
case ":${LD_LIBRARY_PATH:-}:" in
    *":$PEER_BLAS_DIR:"*) ;;
    *) LD_LIBRARY_PATH="$PEER_BLAS_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac
export LD_LIBRARY_PATH
export OMP_WAIT_POLICY=PASSIVE
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
    echo "peer_env.sh: unsetting OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE" \
         "(OpenBLAS detects the CPU itself; a preset Haswell halves it)" >&2
fi
unset OPENBLAS_CORETYPE

if [ -z "${PEER_ENV_SKIP_CHECK:-}" ]; then
    peer_maps=$("$PEER_PYTHON" -c '
import torch
torch.ones(8, 8) @ torch.ones(8, 8)
print("\n".join(sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l})))
' 2>&1)
    if printf '%s\n' "$peer_maps" | grep -q 'openblas'; then
        [ -n "${PEER_ENV_QUIET:-}" ] ||
            echo "peer_env.sh: OK: torch maps $(printf '%s\n' "$peer_maps" | grep -m1 openblas)" >&2
    else
        echo "" >&2
        echo "peer_env.sh: ******************************************************" >&2
        echo "peer_env.sh: WARNING: torch does NOT map libopenblas; it maps:" >&2
        printf '%s\n' "${peer_maps:-  (nothing with 'blas' in its name)}" | sed 's/^/peer_env.sh:   /' >&2
        echo "peer_env.sh: PyTorch figures taken now are NOT the fair peer." >&2
        echo "peer_env.sh: ******************************************************" >&2
    fi
    unset peer_maps
fi
