/**
 * Preprocessing reproduces the parity inputs bit for bit (same decode, same sharp resize,
 * same scaling), so the parity records also vouch for the live path. Plus crop edges.
 */
import { ModelManifest } from '../../src/vision/model-manifest';
import { cropRgb, inputSpec, RgbImage, toInputTensor } from '../../src/vision/preprocess';
import { loadRgb } from '../support/dev-images';
import { f32Bytes, MODELS_DIR, parityCases, sha256 } from './parity-records';

const MODELS = ['ssd_mobilenetv2_oidv4', 'centernet_mobilenetv3_coco', 'mobilenetv2_140_embedding'];

describe('toInputTensor', () => {
  const cases = MODELS.flatMap((m) => parityCases(m).map((c) => [m, c.image, c] as const));
  test.each(cases)('%s on %s equals the recorded input tensor', async (model, image, c) => {
    const manifest = await ModelManifest.load(MODELS_DIR);
    const t = await toInputTensor(await loadRgb(image), inputSpec(manifest.entry(model)));
    expect(t.dims).toEqual(c.input_shape);
    expect(sha256(f32Bytes(t.data))).toBe(c.input_sha256);
  });

  test('rejects a buffer that does not match its size', async () => {
    const manifest = await ModelManifest.load(MODELS_DIR);
    const bad: RgbImage = { data: new Uint8Array(10), width: 2, height: 2 };
    await expect(toInputTensor(bad, inputSpec(manifest.entry(MODELS[0])))).rejects.toMatchObject({ code: 3 });
  });
});

describe('cropRgb', () => {
  // 4x2 image whose red channel is the pixel index.
  const img: RgbImage = { data: Uint8Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? i / 3 : 0)), width: 4, height: 2 };
  const red = (c: RgbImage): number[] => Array.from({ length: c.width * c.height }, (_, i) => c.data[i * 3]);

  test('rounds edges outward and keeps rows', () => {
    const c = cropRgb(img, { x0: 0.3, y0: 0.5, x1: 0.7, y1: 1 });
    expect([c.width, c.height]).toEqual([2, 1]);
    expect(red(c)).toEqual([5, 6]);
  });

  test('clamps boxes outside the image, never returns an empty crop', () => {
    expect(cropRgb(img, { x0: -1, y0: -1, x1: 2, y1: 2 })).toBe(img);
    const thin = cropRgb(img, { x0: 1.2, y0: 0.5, x1: 1.3, y1: 0.5 });
    expect([thin.width, thin.height]).toEqual([1, 1]);
    expect(red(thin)).toEqual([7]);
  });
});
