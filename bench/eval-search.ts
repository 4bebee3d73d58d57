/**
 * Retrieval quality of binary codes vs float cosine on held-out real photos.
 * Products are the photos with split 'heldout' in tools/hashing/photo-sources.ts (never
 * seen by the hash training). Each product has --refs reference images in the catalog
 * (the photo itself plus augmentations) and --queries query images (augmentations with
 * another seed, pasted onto *training* photos as clutter so no held-out content leaks
 * into the background). Two catalogs: held-out references only, and the same plus
 * distractor references made from the training photos (harder, but the learned hash has
 * seen those photos, which may flatter it a little).
 * Prints a table and one JSON line per (catalog, method). Fixed seeds; one process.
 * Usage: npx tsx bench/eval-search.ts [--refs 4 --queries 25 --depth 10,50 --dump DIR]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Hasher } from '../src/search/hasher/hasher';
import { ItqHasher } from '../src/search/hasher/itq-hasher';
import { RandomProjectionHasher } from '../src/search/hasher/random-projection-hasher';
import { SeededRandom } from '../src/search/hasher/seeded-random';
import { augment, loadRaw, RawRgb } from '../tools/hashing/augment';
import { EmbeddingSession, mapPool } from '../tools/hashing/embedding-session';
import { ensurePhotos, REPO } from '../tools/hashing/photos';
import { rankByCosine, rankByHamming, rerank, score, Scores } from '../tools/hashing/retrieval-metrics';

const { values } = parseArgs({
  options: {
    refs: { type: 'string', default: '4' },
    queries: { type: 'string', default: '25' },
    depth: { type: 'string', default: '10,50' }, // re-rank depths, comma-separated
    dump: { type: 'string' }, // directory: also write the embeddings (float32 + labels) for offline analysis
  },
});
const REFS = Number(values.refs);
const QUERIES = Number(values.queries);
const DEPTHS = values.depth.split(',').map(Number);
const REF_SEED = 1_000_003;
const QUERY_SEED = 2_000_003;
const BITS = [64, 128, 256];

interface Item {
  label: number;
  embedding: Float32Array;
}

/** Job j of `count` per photo: j % count === 0 is the untouched photo, others augmented. */
async function embedSet(
  session: EmbeddingSession,
  files: string[],
  raws: RawRgb[],
  count: number,
  seed: number,
  backgrounds: RawRgb[],
  withOriginal: boolean,
  labelBase: number,
): Promise<Item[]> {
  return mapPool(raws.length * count, 3, async (j) => {
    const p = Math.floor(j / count);
    const k = j % count;
    const bytes = withOriginal && k === 0 ? await readFile(files[p]) : await augment(raws[p], new SeededRandom(seed + j), backgrounds);
    return { label: labelBase + p, embedding: await session.embed(bytes) };
  });
}

async function dump(dir: string, sets: Record<string, Item[]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, items] of Object.entries(sets)) {
    const mat = new Float32Array(items.length * items[0].embedding.length);
    items.forEach((it, i) => mat.set(it.embedding, i * it.embedding.length));
    await writeFile(path.join(dir, `${name}.f32`), new Uint8Array(mat.buffer));
    await writeFile(path.join(dir, `${name}.json`), JSON.stringify(items.map((it) => it.label)));
  }
}

function evaluate(db: Item[], queries: Item[], hashers: Map<string, Hasher>): Map<string, Scores> {
  const out = new Map<string, Scores>();
  const dbE = db.map((d) => d.embedding);
  const dbL = db.map((d) => d.label);
  const qL = queries.map((q) => q.label);
  const tieRng = new SeededRandom(7);
  const tiebreak = dbE.map(() => tieRng.next());
  out.set(
    'float cosine',
    score(
      queries.map((q) => rankByCosine(q.embedding, dbE)),
      qL,
      dbL,
    ),
  );
  for (const [name, h] of hashers) {
    const codes = dbE.map((e) => h.encode(e));
    const ham = queries.map((q) => rankByHamming(h.encode(q.embedding), codes, tiebreak));
    out.set(name, score(ham, qL, dbL));
    for (const depth of DEPTHS) {
      out.set(
        `${name} + rerank@${depth}`,
        score(
          ham.map((r, i) => rerank(r, depth, queries[i].embedding, dbE)),
          qL,
          dbL,
        ),
      );
    }
  }
  return out;
}

async function main(): Promise<void> {
  const photos = await ensurePhotos();
  const held = photos.filter((p) => p.split === 'heldout');
  const train = photos.filter((p) => p.split === 'train');
  const [heldRaw, trainRaw] = await Promise.all([
    Promise.all(held.map((p) => loadRaw(p.file))),
    Promise.all(train.map((p) => loadRaw(p.file))),
  ]);
  const session = await EmbeddingSession.open();
  const t0 = Date.now();
  const refs = await embedSet(
    session,
    held.map((p) => p.file),
    heldRaw,
    REFS,
    REF_SEED,
    [],
    true,
    0,
  );
  const queries = await embedSet(
    session,
    held.map((p) => p.file),
    heldRaw,
    QUERIES,
    QUERY_SEED,
    trainRaw,
    false,
    0,
  );
  const distractors = await embedSet(
    session,
    train.map((p) => p.file),
    trainRaw,
    REFS,
    REF_SEED + 500_000,
    [],
    true,
    1000,
  );
  await session.close();
  process.stderr.write(
    `embedded ${refs.length + queries.length + distractors.length} images in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`,
  );

  if (values.dump) await dump(values.dump, { refs, queries, distractors });
  const dims = refs[0].embedding.length;
  const hashers = new Map<string, Hasher>();
  for (const b of BITS) hashers.set(`random-proj ${b}`, new RandomProjectionHasher(b, dims, 1));
  const modelDir = path.join(REPO, 'models', 'hashing');
  for (const b of BITS) {
    hashers.set(`learned ${b}`, await ItqHasher.load(modelDir, b));
    // Which variant cross-validation picked for this length (PCA-ITQ or PCA-sign).
    const header = JSON.parse(await readFile(path.join(modelDir, `itq-${b}.json`), 'utf8')) as { method: { name: string } };
    console.log(`learned ${b}: ${header.method.name}`);
  }

  const catalogs: [string, Item[]][] = [
    ['held-out', refs],
    ['held-out + distractors', [...refs, ...distractors]],
  ];
  const lines: string[] = [];
  for (const [catalog, db] of catalogs) {
    console.log(`\n${catalog}: ${held.length} products, ${db.length} catalog images, ${queries.length} queries`);
    console.log(`${'method'.padEnd(28)} R@1    R@5    mAP`);
    for (const [method, s] of evaluate(db, queries, hashers)) {
      console.log(`${method.padEnd(28)} ${s.recallAt1.toFixed(3)}  ${s.recallAt5.toFixed(3)}  ${s.map.toFixed(3)}`);
      lines.push(
        JSON.stringify({
          bench: 'eval-search',
          catalog,
          method,
          ...s,
          products: held.length,
          catalogImages: db.length,
          queries: queries.length,
          node: process.version,
        }),
      );
    }
  }
  console.log('');
  for (const l of lines) console.log(l);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
