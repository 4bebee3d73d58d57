/**
 * The dependency rules of .dependency-cruiser.cjs catch what they are for: a scratch tree
 * with one wrong import per rule fails with that rule's name, a right import passes, and the
 * real src/ passes. Every folder of src/ belongs to exactly one layer, so no new folder
 * escapes the rules. Runs dependency-cruiser's own CLI (the package is ESM only).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const CLI = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const { layers } = createRequire(__filename)(CONFIG) as { layers: { name: string; folders: string[] }[] };

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Cruises `paths` from `cwd` with the repository's rules; the violations found. */
function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, '--config', CONFIG, '--output-type', 'json', ...paths],
      { cwd, maxBuffer: 64 << 20, timeout: 120000 },
      (err, stdout, stderr) => {
        // Exit status is the error count; the JSON says which.
        if (!stdout) return reject(err ?? new Error(stderr));
        resolve((JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations);
      },
    );
  });
}

describe('the dependency rules', () => {
  let dir: string;
  let violations: Violation[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'layers-'));
    const files: Record<string, string> = {
      'src/api/adapter.ts': 'export const adapter = 1;\n',
      'src/annotate/service.ts': "import { engine } from '../vision/engine';\nexport const service = engine;\n",
      'src/vision/engine.ts': 'export const engine = 1;\n',
      // wrong: an engine imports a service
      'src/vision/wrong-upward.ts': "import { service } from '../annotate/service';\nexport const x = service;\n",
      // wrong: the store imports an edge
      'src/store/wrong-edge.ts': "import { adapter } from '../api/adapter';\nexport const y = adapter;\n",
      // wrong: the kernel imports an engine
      'src/core/wrong-kernel.ts': "import { engine } from '../vision/engine';\nexport const z = engine;\n",
      // wrong: a service imports one listed before it in its layer
      'src/catalog/wrong-sideways.ts': "import { service } from '../annotate/service';\nexport const w = service;\n",
      // wrong: two engine folders import each other
      'src/search/loop-a.ts': "import { b } from '../regions/loop-b';\nexport const a = () => b;\n",
      'src/regions/loop-b.ts': "import { a } from '../search/loop-a';\nexport const b = () => a;\n",
      // wrong: a service talks to a database driver, an engine to a transport
      'src/catalog/wrong-driver.ts': "import Database from 'better-sqlite3';\nexport const db = Database;\n",
      'src/images/wrong-transport.ts': "import express from 'express';\nexport const app = express;\n",
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', esModuleInterop: true, strict: true }, include: ['src'] }),
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    violations = await cruise(dir, ['src']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const broken = (rule: string) => violations.filter((v) => v.rule.name === rule).map((v) => `${v.from} -> ${v.to}`);

  test('an engine importing a service fails, and the store importing an edge', () => {
    expect(broken('engines-not-upward').sort()).toEqual([
      'src/store/wrong-edge.ts -> src/api/adapter.ts',
      'src/vision/wrong-upward.ts -> src/annotate/service.ts',
    ]);
  });
  test('the kernel importing an engine fails', () => {
    expect(broken('kernel-not-upward')).toEqual(['src/core/wrong-kernel.ts -> src/vision/engine.ts']);
  });
  test('a folder importing one listed before it in its layer fails, and so two folders importing each other', () => {
    expect(broken('services-order')).toEqual(['src/catalog/wrong-sideways.ts -> src/annotate/service.ts']);
    expect(broken('engines-order')).toEqual(['src/search/loop-a.ts -> src/regions/loop-b.ts']);
    expect(violations.filter((v) => v.rule.name === 'no-folder-cycles').length).toBeGreaterThan(0);
  });
  test('a database driver outside src/store/<impl> fails, and a transport outside the edges', () => {
    expect(broken('drivers-only-in-store-impls')).toEqual([
      expect.stringMatching(/^src\/catalog\/wrong-driver\.ts -> .*node_modules\/better-sqlite3\//),
    ]);
    expect(broken('transports-only-at-edges')).toEqual([
      expect.stringMatching(/^src\/images\/wrong-transport\.ts -> .*node_modules\/express\//),
    ]);
  });
  test('a service importing an engine passes', () => {
    expect(violations.filter((v) => v.from === 'src/annotate/service.ts')).toEqual([]);
  });
});

test('the real src/ keeps the rules', async () => {
  expect(await cruise(ROOT, ['src'])).toEqual([]);
}, 180000);

test('every folder of src/ is in exactly one layer', () => {
  const folders = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const assigned = layers.flatMap((l) => l.folders);
  expect([...assigned].sort()).toEqual([...new Set(assigned)].sort());
  expect([...folders].sort()).toEqual([...assigned].sort());
});
