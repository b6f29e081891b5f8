# shellcheck shell=sh
# Source this (". bench/peer_env.sh") before running the PyTorch peer: it sets
# the environment BRIEF.md section 5 ("A fair peer") calls PyTorch at its best
# on this machine, without touching the system's BLAS alternatives.
#   - Debian's python3-torch calls whatever libblas.so.3 resolves to; we put
#     libopenblas0-pthread's folder first on LD_LIBRARY_PATH.
#   - OMP_WAIT_POLICY=PASSIVE: otherwise OpenMP and OpenBLAS threads spin
#     against each other (about 3x slower on 2 cores).
#   - OPENBLAS_CORETYPE unset: OpenBLAS picks its kernels from the CPU
#     (SkylakeX or Cooperlake on AVX-512 machines: Cooperlake on this Zen 4);
#     a preset Haswell (some machines here have one) halves its speed.
# Then it checks that torch's sgemm_ really is OpenBLAS's, and says so
# loudly when it is not. PEER_ENV_QUIET=1 silences the success line;
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
    # The script beside this one (bash names it; other shells: run from the
    # repository root). Mapping libopenblas is not enough (OpenBLAS's
    # liblapack maps it even when sgemm_ comes from netlib): ask which file
    # libtorch's sgemm_ resolves to.
    # shellcheck disable=SC3028  # BASH_SOURCE is bash's; the default serves sh
    peer_script=$(dirname "${BASH_SOURCE:-bench/peer_env.sh}")/pytorch_vae.py
    if peer_sgemm=$("$PEER_PYTHON" "$peer_script" --check-blas 2>&1); then
        [ -n "${PEER_ENV_QUIET:-}" ] ||
            echo "peer_env.sh: OK: torch's sgemm_ comes from $peer_sgemm" >&2
    else
        echo "" >&2
        echo "peer_env.sh: ******************************************************" >&2
        echo "peer_env.sh: WARNING: torch's sgemm_ is NOT OpenBLAS's:" >&2
        printf '%s\n' "$peer_sgemm" | tail -n 3 | sed 's/^/peer_env.sh:   /' >&2
        echo "peer_env.sh: PyTorch figures taken now are NOT the fair peer." >&2
        echo "peer_env.sh: ******************************************************" >&2
    fi
    unset peer_script peer_sgemm
fi
