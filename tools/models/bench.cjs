// Single-image latency of models/*.onnx in onnxruntime-node (CPU EP).
// Usage (from the repo root): node tools/models/bench.cjs [runs=40]
// Feeds each model's recorded parity input (models/parity/*.input.f32.gz), one image per run.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const os = require('os');
const ort = require('onnxruntime-node');

const root = path.resolve(__dirname, '..', '..');
const models = JSON.parse(fs.readFileSync(path.join(root, 'models', 'manifest.json'), 'utf8')).models;
const runs = Number(process.argv[2] || 40);

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

(async () => {
  console.log(`onnxruntime-node ${require('onnxruntime-node/package.json').version}, node ${process.version}, ${os.cpus().length} x ${os.cpus()[0].model}`);
  for (const m of models) {
    const rec = JSON.parse(fs.readFileSync(path.join(root, 'models', 'parity', `${m.name}.json`), 'utf8'));
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(root, 'models', 'parity', rec.cases[0].input_file)));
    const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
    for (const threads of [1, 2]) {
      const t0 = process.hrtime.bigint();
      const sess = await ort.InferenceSession.create(path.join(root, 'models', m.file), {
        intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
      });
      const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const feeds = { [m.input.name]: new ort.Tensor('float32', x, m.input.shape) };
      for (let i = 0; i < 5; i++) await sess.run(feeds);
      const times = [];
      for (let i = 0; i < runs; i++) {
        const t = process.hrtime.bigint();
        await sess.run(feeds);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      console.log(`${m.name.padEnd(28)} threads=${threads}  median ${quantile(times, 0.5).toFixed(1)} ms  p90 ${quantile(times, 0.9).toFixed(1)} ms  min ${Math.min(...times).toFixed(1)} ms  (session create ${loadMs.toFixed(0)} ms, ${runs} runs)`);
      await sess.release();
    }
  }
})();
