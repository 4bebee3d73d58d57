import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEV_IMAGES_DIR } from './dev-images';

// The parity records and calibration fits were made from these exact bytes.
test('every vendored development photo matches its recorded sha256', () => {
  const lines = readFileSync(path.join(DEV_IMAGES_DIR, 'SHA256SUMS'), 'utf8').trim().split('\n');
  expect(lines.length).toBeGreaterThanOrEqual(14);
  for (const line of lines) {
    const [sum, file] = line.split(/\s+/);
    expect([
      file,
      createHash('sha256')
        .update(readFileSync(path.join(DEV_IMAGES_DIR, file)))
        .digest('hex'),
    ]).toEqual([file, sum]);
  }
});
