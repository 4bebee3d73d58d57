/**
 * Rebuilds test/fixtures/e2e-photos (the end-to-end search eval's photos) from the Debian
 * packages listed in tools/e2e/sources.tsv: apt-get download, dpkg -x (nothing is
 * installed), then each photo oriented, flattened onto white (stamps with transparency
 * look like a shop's product shots), at most 640 px a side and at least 320 px on the
 * short side (Google's polygon rules want 300), JPEG quality 90. Writes photos.tsv (id,
 * group, role, split, package and version, path, licence, sha256).
 *
 * Splits: the development photos and every fourth other product are 'dev' (what the
 * search's constants were tuned on); the rest are 'heldout'.
 *
 * Needs ImageMagick's `convert` (apt) for the PGM, PPM and BMP files.
 * Usage: npx tsx tools/e2e/vendor-photos.ts [--unpacked DIR]  (DIR/<pkg>/<path> already there)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEV_IMAGES_DIR } from '../../test/support/dev-images';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test', 'fixtures', 'e2e-photos');
const { values } = parseArgs({ options: { unpacked: { type: 'string' } } });

interface Source {
  pkg: string;
  path: string;
  role: string;
  group: string;
  licence: string;
}

function readSources(): Source[] {
  const [header, ...lines] = fs.readFileSync(path.join(__dirname, 'sources.tsv'), 'utf8').trim().split('\n');
  const cols = header.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i], v])) as unknown as Source);
}

function version(pkg: string): string {
  if (pkg === 'dev-images') return 'test/fixtures/dev-images';
  const out = execFileSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  return /Candidate:\s*(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/** The file, or for formats sharp's libvips lacks (PGM, PPM, BMP) a PNG made by ImageMagick. */
async function readable(file: string): Promise<string | Buffer> {
  try {
    await sharp(file).metadata();
    return file;
  } catch {
    return execFileSync('convert', [file, 'png:-'], { maxBuffer: 64 << 20 });
  }
}

async function main() {
  const sources = readSources();
  const pkgs = [...new Set(sources.map((s) => s.pkg).filter((p) => p !== 'dev-images'))];
  let root = values.unpacked;
  const work = root ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-photos-'));
  try {
    if (work) {
      execFileSync('apt-get', ['download', ...pkgs], { cwd: work, stdio: 'inherit' });
      for (const p of pkgs) {
        const deb = fs.readdirSync(work).find((f) => f.startsWith(`${p}_`) && f.endsWith('.deb'))!;
        execFileSync('dpkg', ['-x', deb, path.join('x', p)], { cwd: work, stdio: 'pipe' });
      }
      root = path.join(work, 'x');
    }
    fs.rmSync(OUT, { recursive: true, force: true });
    fs.mkdirSync(OUT, { recursive: true });
    const rows = ['id\tgroup\trole\tsplit\tpkg\tversion\tpath\tlicence\tsha256'];
    const versions = new Map(pkgs.map((p) => [p, version(p)]));
    let others = 0;
    for (const s of sources) {
      const src = s.pkg === 'dev-images' ? path.join(DEV_IMAGES_DIR, s.path) : path.join(root!, s.pkg, s.path);
      // Wallpapers are all named by their size: take the wallpaper's own folder name.
      const base = /^\d+x\d+\.\w+$/.test(path.basename(s.path)) ? s.path.split('/').at(-4)! : path.basename(s.path).replace(/\.[^.]+$/, '');
      const id = `${s.pkg.split('-')[0]}_${base}.jpg`;
      const split = s.role !== 'reference' ? 'heldout' : s.pkg === 'dev-images' || others++ % 4 === 0 ? 'dev' : 'heldout';
      const input = await readable(src);
      const img = sharp(input).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb');
      const { width = 0, height = 0 } = await sharp(input).metadata();
      const up = Math.max(1, 320 / Math.min(width, height));
      const w = Math.round(width * up);
      const h = Math.round(height * up);
      const scale = Math.min(1, 640 / Math.max(w, h));
      const bytes = await img
        .resize(Math.max(320, Math.round(w * scale)), Math.max(320, Math.round(h * scale)), { fit: 'fill' })
        .jpeg({ quality: 90 })
        .toBuffer();
      if (fs.existsSync(path.join(OUT, id))) throw new Error(`duplicate id ${id}`);
      fs.writeFileSync(path.join(OUT, id), bytes);
      const sha = createHash('sha256').update(bytes).digest('hex');
      rows.push(
        [id, s.group || base, s.role, split, s.pkg, versions.get(s.pkg) ?? 'test/fixtures/dev-images', s.path, s.licence, sha].join('\t'),
      );
    }
    fs.writeFileSync(path.join(OUT, 'photos.tsv'), `${rows.join('\n')}\n`);
    console.log(`${rows.length - 1} photos in ${OUT}`);
  } finally {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
