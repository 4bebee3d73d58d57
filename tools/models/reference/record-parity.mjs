// Records reference outputs of the ORIGINAL runtimes on fixed real photos:
//   ssd_mobilenetv2_oidv4     -> LiteRT.js (@litertjs/core, TFLite runtime compiled to wasm, XNNPACK CPU)
//   centernet_mobilenetv3_coco, mobilenetv2_140_embedding -> TensorFlow.js (@tensorflow/tfjs, cpu backend)
// Usage: node record-parity.mjs WORK_DIR IMAGES_DIR OUT_DIR
//   WORK_DIR holds ssd.tflite, centernet/{centernet.json,centernet.bin}, nsfw/{model.json,group1-*}
//   (as laid out by convert-all.sh); IMAGES_DIR holds the development photos (test/fixtures/dev-images).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { ssdAnchors, decodeSsd, decodeCenterNet, SSD_DECODE_OPTIONS } from './decode.mjs';

const [workDir, imagesDir, outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: record-parity.mjs WORK_DIR IMAGES_DIR OUT_DIR');
const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const pkgVersion = (p) => JSON.parse(fs.readFileSync(path.join(here, 'node_modules', p, 'package.json'), 'utf8')).version;

const IMAGES = ['darknet_dog.jpg', 'skimage_coffee.png'];
const SCALINGS = {
  m11: { text: 'x / 127.5 - 1', f: (v) => v / 127.5 - 1 },
  raw255: { text: 'x (0..255 as float)', f: (v) => v },
  unit: { text: 'x / 255', f: (v) => v / 255 },
};
const MODELS = [
  { name: 'ssd_mobilenetv2_oidv4', size: 300, scaling: 'm11', runtime: 'litert' },
  { name: 'centernet_mobilenetv3_coco', size: 512, scaling: 'raw255', runtime: 'tfjs' },
  { name: 'mobilenetv2_140_embedding', size: 224, scaling: 'unit', runtime: 'tfjs' },
];
const TOLERANCE = {
  // |onnx - ref| <= abs + rel * |ref| for every sampled value, min/max and every
  // embedding value; sums: |d| <= sumRel * sumAbs(ref).
  ssd_mobilenetv2_oidv4: { abs: 1e-3, rel: 1e-4, sumRel: 1e-4 },
  centernet_mobilenetv3_coco: { abs: 1e-3, rel: 1e-4, sumRel: 1e-4 },
  mobilenetv2_140_embedding: { abs: 1e-3, rel: 1e-4, sumRel: 1e-4 },
};

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const r7 = (v) => Number(v.toPrecision(7));

async function preprocess(file, size, scaling) {
  const { data, info } = await sharp(path.join(imagesDir, file))
    .removeAlpha().toColourspace('srgb')
    .resize(size, size, { fit: 'fill', kernel: 'linear' })
    .raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) throw new Error('bad decode');
  const f = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) f[i] = SCALINGS[scaling].f(data[i]);
  return f;
}

function summarize(arr, shape, nSamples = 256, nTop = 32) {
  let sum = 0, sumAbs = 0, min = Infinity, max = -Infinity, argmax = -1, argmin = -1;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    sum += v; sumAbs += Math.abs(v);
    if (v > max) { max = v; argmax = i; }
    if (v < min) { min = v; argmin = i; }
  }
  const idx = new Set();
  const step = arr.length / nSamples;
  for (let k = 0; k < nSamples; k++) {
    const jitter = (k * 7919) % Math.max(1, Math.floor(step));
    idx.add(Math.min(arr.length - 1, Math.floor(k * step) + jitter));
  }
  const order = Array.from(arr.keys()).sort((a, b) => arr[b] - arr[a] || a - b);
  for (const i of order.slice(0, nTop)) idx.add(i);
  const samples = [...idx].sort((a, b) => a - b).map((i) => [i, arr[i]]);
  return {
    shape, count: arr.length,
    stats: { sum, sumAbs, mean: sum / arr.length, min, max, argmin, argmax },
    samples,
  };
}

// ---- LiteRT.js in Node: it is written for browsers, give it the few globals it needs.
async function litertRun(tfliteBytes, inputs) {
  const wasmDir = path.join(here, 'node_modules', '@litertjs', 'core', 'wasm') + '/';
  globalThis.self = globalThis;
  globalThis.__dirname = wasmDir;
  globalThis.require = require;
  globalThis.importScripts = (url) => {
    const p = url.startsWith('file:') ? new URL(url).pathname : url;
    vm.runInThisContext(fs.readFileSync(p, 'utf8'), { filename: p });
  };
  const { loadLiteRt, loadAndCompile, Tensor } = await import('@litertjs/core');
  await loadLiteRt(wasmDir);
  const model = await loadAndCompile(new Uint8Array(tfliteBytes), { accelerator: 'wasm' });
  const outNames = model.getOutputDetails().map((d) => d.name);
  const results = [];
  for (const x of inputs) {
    const t = new Tensor(x, [1, 300, 300, 3]);
    const res = await model.run(t);
    const out = {};
    res.forEach((r, i) => { out[outNames[i]] = Float32Array.from(r.toTypedArray()); r.delete(); });
    t.delete();
    results.push(out);
  }
  return results;
}

async function tfjsModel(modelJson, weightBuffers) {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  await tf.ready();
  const weightData = Buffer.concat(weightBuffers);
  const artifacts = {
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length),
    format: modelJson.format, generatedBy: modelJson.generatedBy, convertedBy: modelJson.convertedBy,
    signature: modelJson.signature, userDefinedMetadata: modelJson.userDefinedMetadata,
  };
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return { tf, model };
}

const cocoNames = fs.readFileSync(path.join(imagesDir, 'coco.names'), 'utf8').trim().split('\n');
const ssdLabels = fs.readFileSync(path.join(workDir, 'ssd_labelmap.txt'), 'utf8').trim().split('\n');
fs.mkdirSync(outDir, { recursive: true });
const anchors = ssdAnchors();

for (const spec of MODELS) {
  const inputs = [];
  for (const img of IMAGES) inputs.push(await preprocess(img, spec.size, spec.scaling));
  let outputs; let runtime;
  if (spec.name === 'ssd_mobilenetv2_oidv4') {
    const raw = await litertRun(fs.readFileSync(path.join(workDir, 'ssd.tflite')), inputs);
    outputs = raw.map((o) => ({ raw_boxes: o['raw_outputs/box_encodings'], raw_scores: o['raw_outputs/class_predictions'] }));
    runtime = `@litertjs/core@${pkgVersion('@litertjs/core')} (LiteRT/TFLite runtime compiled to wasm, accelerator 'wasm' = XNNPACK CPU delegate), run in Node ${process.version}`;
  } else if (spec.name === 'centernet_mobilenetv3_coco') {
    const dir = path.join(workDir, 'centernet');
    const mj = JSON.parse(fs.readFileSync(path.join(dir, 'centernet.json'), 'utf8'));
    const { tf, model } = await tfjsModel(mj, mj.weightsManifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p))));
    outputs = inputs.map((x) => {
      const t = tf.tensor(x, [1, 512, 512, 3]);
      const [k, wh, det] = model.execute(t, ['tower_0/keypoints', 'tower_0/wh', 'tower_0/detections']);
      const o = { heatmap: k.dataSync().slice(), wh: wh.dataSync().slice(), detections: det.dataSync().slice() };
      tf.dispose([t, k, wh, det]);
      return o;
    });
    runtime = `@tensorflow/tfjs@${pkgVersion('@tensorflow/tfjs')} (cpu backend), Node ${process.version}`;
  } else {
    const dir = path.join(workDir, 'nsfw');
    const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const { tf, model } = await tfjsModel(mj, mj.weightsManifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p))));
    const node = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze';
    outputs = inputs.map((x) => {
      const t = tf.tensor(x, [1, 224, 224, 3]);
      const [e, p] = model.execute(t, [node, 'Identity']);
      const o = { embedding: e.dataSync().slice(), nsfwjs_probs: p.dataSync().slice() };
      tf.dispose([t, e, p]);
      return o;
    });
    runtime = `@tensorflow/tfjs@${pkgVersion('@tensorflow/tfjs')} (cpu backend), Node ${process.version}`;
  }

  const cases = [];
  IMAGES.forEach((img, ci) => {
    const x = inputs[ci];
    const bytes = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    const stem = img.replace(/\.[a-z]+$/, '');
    const inputFile = `${spec.name}.${stem}.input.f32.gz`;
    fs.writeFileSync(path.join(outDir, inputFile), zlib.gzipSync(bytes, { level: 9 }));
    const o = outputs[ci];
    const c = {
      image: img,
      image_sha256: sha256(fs.readFileSync(path.join(imagesDir, img))),
      input_file: inputFile,
      input_sha256: sha256(bytes),
      input_shape: [1, spec.size, spec.size, 3],
      outputs: {},
    };
    if (spec.name === 'ssd_mobilenetv2_oidv4') {
      c.outputs.raw_boxes = summarize(o.raw_boxes, [1, 1917, 4]);
      c.outputs.raw_scores = summarize(o.raw_scores, [1, 1917, 24]);
      c.detections = decodeSsd(o.raw_boxes, o.raw_scores, anchors).map((d) => ({
        anchor: d.anchor, classId: d.classId, label: ssdLabels[d.classId], score: r7(d.score),
        box: [d.xmin, d.ymin, d.xmax, d.ymax].map(r7),
      }));
      c.detections_note = `decodeSsd(): MediaPipe options, min score ${SSD_DECODE_OPTIONS.minScoreThresh}, class-agnostic NMS IoU 0.5; box = normalized [xmin,ymin,xmax,ymax] of the stretched 300x300 input`;
    } else if (spec.name === 'centernet_mobilenetv3_coco') {
      c.outputs.heatmap = summarize(o.heatmap, [1, 128, 128, 80], 256, 64);
      c.outputs.wh = summarize(o.wh, [1, 128, 128, 4]);
      const det = [];
      for (let i = 0; i < 100; i++) {
        const r = o.detections.slice(i * 6, i * 6 + 6);
        if (r[4] < 0.1) break;
        det.push({ classId: r[5], label: cocoNames[r[5]], score: r7(r[4]), box: Array.from(r.slice(0, 4)).map(r7) });
      }
      c.detections = det;
      c.detections_note = 'tower_0/detections of the original TFJS graph (rows with score >= 0.1); box = [x1,y1,x2,y2] in 512x512 input pixels';
      const mine = decodeCenterNet(o.heatmap, o.wh).filter((d) => d.score >= 0.1);
      const agree = mine.length === det.length && mine.every((d, i) => d.classId === det[i].classId
        && Math.abs(d.x1 - det[i].box[0]) < 1e-3 && Math.abs(d.y2 - det[i].box[3]) < 1e-3);
      if (!agree) throw new Error('decodeCenterNet() disagrees with tower_0/detections');
    } else {
      c.outputs.embedding = summarize(o.embedding, [1, 1792], 1792, 0);
      c.nsfwjs_probs = Array.from(o.nsfwjs_probs).map(r7);
      c.nsfwjs_probs_note = 'classifier head of the original model (Drawing, Hentai, Neutral, Porn, Sexy); not part of the ONNX file';
    }
    cases.push(c);
  });
  const rec = {
    model: spec.name,
    onnx_file: `${spec.name}.onnx`,
    reference_runtime: runtime,
    recorded_by: 'tools/models/reference/record-parity.mjs',
    preprocessing: {
      decoder: `sharp@${pkgVersion('sharp')} (libvips ${sharp.versions.vips})`,
      steps: `removeAlpha, sRGB, resize to ${spec.size}x${spec.size} with fit 'fill' (stretch, aspect ratio not kept) and kernel 'linear', raw RGB uint8 HWC, then float32 ${SCALINGS[spec.scaling].text}`,
      note: 'The parity test feeds the recorded float32 tensor (input_file, gzip of little-endian float32 NHWC) and checks input_sha256; it does not re-decode the image.',
    },
    tolerance: TOLERANCE[spec.name],
    cases,
  };
  fs.writeFileSync(path.join(outDir, `${spec.name}.json`), JSON.stringify(rec, null, 1) + '\n');
  console.log(`recorded ${spec.name}: ${cases.map((c) => c.image + ' det=' + (c.detections ? c.detections.length : '-')).join(', ')}`);
}
process.exit(0);
