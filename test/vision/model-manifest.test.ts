import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Code } from '../../src/core/errors';
import { centerNetDecoding, ModelManifest, ssdDecoding } from '../../src/vision/model-manifest';
import { MODELS_DIR, sha256 } from './parity-records';

const realJson = fs.readFileSync(path.join(MODELS_DIR, 'manifest.json'), 'utf8');

describe('ModelManifest', () => {
  test('the shipped manifest parses, with both decoding blocks and dense labels', () => {
    const m = ModelManifest.parse(MODELS_DIR, realJson);
    expect(m.models.map((e) => e.name)).toEqual(['ssd_mobilenetv2_oidv4', 'centernet_mobilenetv3_coco', 'mobilenetv2_140_embedding']);
    expect(ssdDecoding(m.entry('ssd_mobilenetv2_oidv4')).nms.iou_threshold).toBe(0.5);
    expect(centerNetDecoding(m.entry('centernet_mobilenetv3_coco')).top_k).toBe(100);
    expect(m.entry('ssd_mobilenetv2_oidv4').labels).toHaveLength(24);
    expect(m.entry('centernet_mobilenetv3_coco').labels).toHaveLength(80);
    expect(() => ssdDecoding(m.entry('centernet_mobilenetv3_coco'))).toThrow(/SSD decoding is invalid/);
  });

  test('rejects a malformed manifest with INVALID_ARGUMENT naming the field', () => {
    const bad = JSON.parse(realJson) as { models: { sha256: string; labels?: { index: number }[] }[] };
    bad.models[0].sha256 = 'xyz';
    expect(() => ModelManifest.parse(MODELS_DIR, JSON.stringify(bad))).toThrow(/\/models\/0\/sha256/);
    const gap = JSON.parse(realJson) as typeof bad;
    gap.models[1].labels![3].index = 4;
    expect(() => ModelManifest.parse(MODELS_DIR, JSON.stringify(gap))).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }));
    expect(() => ModelManifest.parse(MODELS_DIR, '{')).toThrow(/not JSON/);
  });

  test('readVerified checks the file sha256', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'manifest-'));
    try {
      const bytes = Buffer.from('not really onnx');
      fs.writeFileSync(path.join(dir, 'm.onnx'), bytes);
      const entry = { ...JSON.parse(realJson).models[2], name: 'tiny', file: 'm.onnx', sha256: sha256(bytes) };
      const other = { ...entry, name: 'other', sha256: '0'.repeat(64) };
      const m = ModelManifest.parse(dir, JSON.stringify({ models: [entry, other] }));
      expect(Buffer.from((await m.readVerified('tiny')).bytes)).toEqual(bytes);
      await expect(m.readVerified('other')).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION });
      expect(() => m.entry('missing')).toThrow(/not in the manifest/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
