/**
 * The console's bundle as `npm run build` makes it: small (≤ 300 KB gzipped, all files
 * together) and self-contained (no URL of another host: the machine may reach nothing
 * outside, and the page's CSP would block it anyway).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = path.resolve(__dirname, '..', '..');
let out: string;
let files: Map<string, string>;

beforeAll(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'metapixel-console-'));
  execFileSync(process.execPath, [path.join(ROOT, 'console', 'build.mjs'), out], { stdio: 'pipe' });
  files = new Map(readdirSync(out).map((f) => [f, readFileSync(path.join(out, f), 'utf8')]));
}, 60000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

test('the bundle is one page, one script, one stylesheet, ≤ 300 KB gzipped', () => {
  expect([...files.keys()].sort()).toEqual(['console.css', 'console.js', 'index.html']);
  const gzipped = [...files.values()].reduce((n, text) => n + gzipSync(text, { level: 9 }).length, 0);
  console.log(`console bundle: ${gzipped} bytes gzipped (${[...files.values()].reduce((n, t) => n + t.length, 0)} raw)`);
  expect(gzipped).toBeGreaterThan(5000); // a real bundle, not an empty file
  expect(gzipped).toBeLessThanOrEqual(300 * 1024);
});

test('no file names another host', () => {
  for (const [name, text] of files) {
    const absolute = [...text.matchAll(/\b(?:https?|wss?|ftp):\/\/[a-z0-9][^\s"'`)<>\\]*/gi)].map((m) => m[0]);
    expect({ name, absolute }).toEqual({ name, absolute: [] });
    // protocol-relative references; in the stylesheet, imports and url()s that are not data:
    expect({ name, found: /(?:src|href|action)\s*=\s*["']?\/\//i.exec(text)?.[0] }).toEqual({ name, found: undefined });
    if (name.endsWith('.css'))
      expect({ name, found: /@import|url\(\s*["']?(?!data:)[^)]*\)/i.exec(text)?.[0] }).toEqual({ name, found: undefined });
  }
  // What the page loads, it loads from its own origin.
  const html = files.get('index.html')!;
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(refs.sort()).toEqual([
    '#catalog',
    '#health',
    '#localize',
    '#main',
    '#operations',
    '#query',
    '/console/console.css',
    '/console/console.js',
  ]);
});

test('the scan catches what it looks for', () => {
  const scan = (t: string) => /\b(?:https?|wss?|ftp):\/\/[a-z0-9][^\s"'`)<>\\]*/i.test(t);
  expect(scan('fetch("https://cdn.example.com/x.js")')).toBe(true);
  expect(scan('placeholder="https://… or gs://…"')).toBe(false);
});
