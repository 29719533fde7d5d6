#!/usr/bin/env bash
# Build Horovod 0.28.1 from source into .venv against the installed TensorFlow (2.21).
#
# No Horovod wheel exists for current TensorFlow, and the 0.28.1 sdist does not build against
# TF 2.21 as is.  The recipe that works:
#   * drop horovod/tensorflow/xla_mpi_ops.cc from horovod/tensorflow/CMakeLists.txt (the
#     XLA custom-call ops do not compile against TF 2.21; we never use them: jit_compile is
#     off under Horovod);
#   * add <tf include>/external/highwayhash to CXXFLAGS (TF's headers include it by a path
#     that is not otherwise on the include path);
#   * CMAKE_POLICY_VERSION_MINIMUM=3.5, so that cmake >= 4 accepts the old
#     cmake_minimum_required of the bundled third-party projects.
# The build uses Gloo (no MPI needed; launch with `horovodrun --gloo`).  On a CUDA machine set
# OMNILEARN_HOROVOD_GPU=1 to also build NCCL collectives (needs nvcc and NCCL), and
# OMNILEARN_HOROVOD_MPI=1 to build MPI support too (needed to launch with srun instead of
# horovodrun); both are untested here (no GPU, no MPI on the development machine).
#
# Idempotent: exits at once when `import horovod.tensorflow` already works.
# Compiles for ~8 minutes on 2 cores.  Usage: scripts/install_horovod.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-${PYTHON:-.venv/bin/python}}
VERSION=0.28.1

if "$PY" -c 'import horovod.tensorflow' >/dev/null 2>&1; then
    echo "horovod.tensorflow already importable with $PY; nothing to do."
    exit 0
fi

# Horovod's setup.py wants cmake >= 3.13; fall back to the PyPI cmake inside the venv.
cmake_ok() {
    command -v cmake >/dev/null 2>&1 || return 1
    local v
    v=$(cmake --version | head -n1 | awk '{print $3}')
    [ "$(printf '%s\n3.13\n' "$v" | sort -V | head -n1)" = "3.13" ]
}
if ! cmake_ok; then
    "$PY" -m pip install --quiet cmake
    export PATH="$(dirname "$PY"):$PATH"
fi

TF_INCLUDE=$("$PY" -c 'import tensorflow as tf; print(tf.sysconfig.get_include())' 2>/dev/null | tail -n1)
[ -d "$TF_INCLUDE/external/highwayhash" ] || { echo "no highwayhash headers under $TF_INCLUDE/external" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PY" -m pip download --quiet --no-deps --no-binary :all: "horovod==$VERSION" -d "$WORK"
tar -xzf "$WORK/horovod-$VERSION.tar.gz" -C "$WORK"
SRC="$WORK/horovod-$VERSION"
sed -i '/xla_mpi_ops\.cc/d' "$SRC/horovod/tensorflow/CMakeLists.txt"

export CMAKE_POLICY_VERSION_MINIMUM=3.5
export CXXFLAGS="${CXXFLAGS:-} -I$TF_INCLUDE/external/highwayhash"
export HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1
export HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1
if [ "${OMNILEARN_HOROVOD_MPI:-0}" = 1 ]; then
    export HOROVOD_WITH_MPI=1  # for srun launches (e.g. Perlmutter: module load cray-mpich; MPICC=cc)
else
    export HOROVOD_WITHOUT_MPI=1
fi
if [ "${OMNILEARN_HOROVOD_GPU:-0}" = 1 ]; then
    command -v nvcc >/dev/null 2>&1 || { echo "OMNILEARN_HOROVOD_GPU=1 but nvcc is not on PATH" >&2; exit 1; }
    export HOROVOD_GPU_OPERATIONS=NCCL
fi
# No build isolation: the extension must compile against the TensorFlow already in the venv.
"$PY" -m pip install --no-build-isolation "$SRC"
"$PY" -c 'import horovod, horovod.tensorflow as hvd; print("horovod", horovod.__version__, "gloo:", hvd.gloo_built())'
