/**
 * docs/architecture.md draws the layers that .dependency-cruiser.cjs enforces: the block
 * after its `<!-- layers` marker names the same layers, top to bottom, with the same
 * folders in the same order. A layer or folder added to one and not the other fails here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const { layers } = createRequire(__filename)(path.join(ROOT, '.dependency-cruiser.cjs')) as {
  layers: { name: string; folders: string[] }[];
};

/** The layers the doc's block draws: `name  src/a, src/b  what they hold`, arrows between. */
function documentedLayers(doc: string): { name: string; folders: string[] }[] {
  const marker = doc.indexOf('<!-- layers');
  if (marker < 0) throw new Error('docs/architecture.md has no <!-- layers --> block');
  const block = /```\n([\s\S]*?)```/.exec(doc.slice(marker));
  if (!block) throw new Error('no fenced block after the <!-- layers --> marker');
  return block[1]
    .split('\n')
    .filter((line) => /^\w/.test(line))
    .map((line) => {
      const m = /^(\w+)\s+((?:src\/[\w-]+(?:, )?)+)/.exec(line);
      if (!m) throw new Error(`cannot read the layer line: ${line}`);
      return { name: m[1], folders: m[2].split(', ').map((f) => f.trim().replace(/^src\//, '')) };
    });
}

test("docs/architecture.md's layer block matches the dependency rules", () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  expect(documentedLayers(doc)).toEqual(layers.map(({ name, folders }) => ({ name, folders })));
});

test('the reader fails a block that names another folder', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8').replace('src/encode, ', '');
  expect(documentedLayers(doc)).not.toEqual(layers.map(({ name, folders }) => ({ name, folders })));
});
