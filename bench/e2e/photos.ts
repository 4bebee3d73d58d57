/**
 * The end-to-end eval's photos, vendored in test/fixtures/e2e-photos (made from Debian
 * packages by tools/e2e/vendor-photos.ts; photos.tsv there gives each one's package,
 * path, licence and sha256). Roles:
 * - reference: a product's photo in the catalog (a group with two is one product with two
 *   reference images);
 * - second: another real photo of a product's object, used only as a query;
 * - distractor: a photo of nothing in the catalog, used only as a query;
 * - background: the scenes products are pasted into for composite queries (in no catalog).
 * Splits: 'dev' photos are what the search's constants were tuned on; 'heldout' never were.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const E2E_PHOTOS_DIR = path.resolve(__dirname, '..', '..', 'test', 'fixtures', 'e2e-photos');

export interface E2ePhoto {
  id: string;
  group: string;
  role: 'reference' | 'second' | 'distractor' | 'background';
  split: 'dev' | 'heldout';
  file: string;
}

export function e2ePhotos(): E2ePhoto[] {
  const [header, ...lines] = fs.readFileSync(path.join(E2E_PHOTOS_DIR, 'photos.tsv'), 'utf8').trim().split('\n');
  const cols = header.split('\t');
  return lines.map((l) => {
    const r = Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v]));
    return { id: r.id, group: r.group, role: r.role, split: r.split, file: path.join(E2E_PHOTOS_DIR, r.id) } as E2ePhoto;
  });
}
