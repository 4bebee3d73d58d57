#!/usr/bin/env bash
# Rebuilds models/hashing from scratch: fetch photos (apt-get download), embed the
# training set, train the hashes. Usage (from anywhere): bash tools/hashing/train.sh
# Needs: node deps installed (npm ci), models/*.onnx, apt access, python3-numpy
# (libopenblas0-pthread strongly advised).
# Takes about 10 minutes on 2 cores. Set SOURCE_DATE_EPOCH for a fixed 'trained_on'.
set -euo pipefail
cd "$(dirname "$0")/../.."
# OpenBLAS: with Debian's default reference BLAS the eigendecompositions take ~10x longer.
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  apt-get install -y python3-numpy libopenblas0-pthread
fi
npx tsx tools/hashing/embed-dataset.ts --per-photo "${PER_PHOTO:-150}" --seed "${SEED:-20261126}"
# /usr/bin/python3 on purpose: Debian's numpy lives there, not in a pyenv interpreter.
/usr/bin/python3 tools/hashing/train_itq.py --seed "${SEED:-20261126}"
# The 256-bit basis as an ONNX graph, for projecting queries with onnxruntime (needs python3-onnx).
if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then apt-get install -y python3-onnx; fi
/usr/bin/python3 tools/hashing/projection_onnx.py --bits 256
