/**
 * `metapixel search <image>...`: BatchAnnotateImages with PRODUCT_SEARCH against a server,
 * through Google's own ImageAnnotatorClient. Local files go as content, http(s):// and
 * gs:// URLs as imageUri (the server fetches them). Prints the matches per detected object
 * as a table, or one JSON line per image (the API's AnnotateImageResponse plus `input`).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { PRODUCT_CATEGORIES } from '../../catalog/rules';
import { MATCH_SCORE } from '../../search/score-scale';
import { lookupType } from '../../api/proto/load';
import { toJson } from '../../api/proto/json-codec';
import { connect, EXIT, explainError, statusName, withServerOptions, type ServerOptions } from '../connection';
import { isUrl } from '../inputs';
import { intOption } from '../options';

interface SearchCliOptions extends ServerOptions {
  productSet: string;
  category: string;
  filter?: string;
  maxResults?: number;
}

/** Google's limit of images per BatchAnnotateImages request. */
const BATCH = 16;

export function searchCommand(): Command {
  return withServerOptions(
    new Command('search')
      .description('Search a product set for the products in images (images:annotate with PRODUCT_SEARCH).')
      .argument('<images...>', 'image files (sent as content), or http(s):// and gs:// URLs (fetched by the server)'),
  )
    .requiredOption('--product-set <id>', 'the product set to search: an id, or projects/P/locations/L/productSets/ID')
    .addOption(new Option('--category <category>', 'product category to search in').choices(PRODUCT_CATEGORIES).default('general-v1'))
    .option('--filter <expr>', 'label filter, e.g. "(color = red OR color = blue) AND brand = Acme"')
    .addOption(intOption('--max-results <n>', 'most products per image (server default 10)', 1, 500))
    .addHelpText(
      'after',
      `
Text output: per image, the best matches over all of its regions (whole image, objects, windows),
then each detected object (name, score, box as normalized x and y ranges) with its matching
products (score, id, display name, labels). A score of ${MATCH_SCORE} or more is a match (the
recommended threshold, docs/search.md); lower ones are marked "below". --json: one line per image,
{"input": ..., "productSearchResults": {...}} or {"input": ..., "error": {...}}, as the REST API answers.

Exit status: 0 searched (even with no match), 1 bad usage or a missing file, 3 some images failed
(their errors are printed), 6 the server could not be reached or refused the call.

Examples:
  metapixel search shoe.jpg --product-set shoes --category apparel-v2 --project my-project
  metapixel search gs://catalog/query.jpg https://example.com/bag.jpg --product-set bags --json --project my-project
  metapixel search photo.jpg --product-set shoes --filter "color = red" --max-results 5 --project my-project`,
    )
    .action(async (images: string[], opts: SearchCliOptions) => {
      process.exitCode = await runSearch(images, opts);
    });
}

async function runSearch(inputs: string[], opts: SearchCliOptions): Promise<number> {
  const productSet = productSetName(opts);
  if (!productSet) {
    process.stderr.write(`metapixel search: --product-set "${opts.productSet}": give an id, or projects/P/locations/L/productSets/ID.\n`);
    return EXIT.USAGE;
  }
  const missing = [];
  for (const input of inputs) if (!isUrl(input) && !(await fs.stat(input).catch(() => undefined))?.isFile()) missing.push(input);
  if (missing.length) {
    process.stderr.write(`metapixel search: no such file: ${missing.join(', ')}. Give image files, or http(s):// or gs:// URLs.\n`);
    return EXIT.USAGE;
  }
  const conn = connect(opts);
  const type = lookupType('google.cloud.vision.v1.AnnotateImageResponse');
  let failed = 0;
  try {
    for (let i = 0; i < inputs.length; i += BATCH) {
      const batch = inputs.slice(i, i + BATCH);
      const contents = await readLocal(batch);
      if (typeof contents === 'string') {
        process.stderr.write(`metapixel search: ${contents}\n`);
        return EXIT.USAGE;
      }
      const requests = batch.map((input, j) => ({
        image: isUrl(input) ? { source: { imageUri: input } } : { content: contents[j]! },
        features: [{ type: 'PRODUCT_SEARCH' as const, ...(opts.maxResults ? { maxResults: opts.maxResults } : {}) }],
        imageContext: {
          productSearchParams: { productSet, productCategories: [opts.category], ...(opts.filter ? { filter: opts.filter } : {}) },
        },
      }));
      const [res] = await conn.imageAnnotator.batchAnnotateImages({ requests });
      (res.responses ?? []).forEach((r, j) => {
        const json = toJson(type, r) as AnnotateJson;
        if (json.error) failed++;
        process.stdout.write(opts.json ? `${JSON.stringify({ input: batch[j], ...json })}\n` : formatImage(batch[j], json));
      });
    }
  } catch (e) {
    process.stderr.write(`metapixel search: ${explainError(e, opts)}\n`);
    return EXIT.SERVER;
  } finally {
    await conn.close();
  }
  if (failed && !opts.json) process.stderr.write(`metapixel search: ${failed} of ${inputs.length} images failed (see above).\n`);
  return failed ? EXIT.SOME_FAILED : EXIT.OK;
}

function productSetName(opts: SearchCliOptions): string | undefined {
  if (/^projects\/[^/]+\/locations\/[^/]+\/productSets\/[^/]+$/.test(opts.productSet)) return opts.productSet;
  if (opts.productSet.includes('/') || !opts.productSet) return undefined;
  return `projects/${opts.project}/locations/${opts.location}/productSets/${opts.productSet}`;
}

interface Vertex {
  x?: number;
  y?: number;
}
interface Poly {
  vertices?: Vertex[];
  normalizedVertices?: Vertex[];
}
interface Result {
  product?: { name?: string; displayName?: string; productLabels?: { key?: string; value?: string }[] };
  score?: number;
}
interface AnnotateJson {
  error?: { code?: number; message?: string };
  productSearchResults?: {
    indexTime?: string;
    results?: Result[];
    productGroupedResults?: { boundingPoly?: Poly; results?: Result[]; objectAnnotations?: { name?: string; score?: number }[] }[];
  };
}

function formatImage(input: string, r: AnnotateJson): string {
  const label = isUrl(input) ? input : path.basename(input);
  if (r.error) return `${label}: error ${statusName(r.error.code)}: ${r.error.message ?? ''}\n`;
  const psr = r.productSearchResults ?? {};
  const groups = psr.productGroupedResults ?? [];
  const lines = [`${label}: ${groups.length} object${groups.length === 1 ? '' : 's'} found (index time ${psr.indexTime ?? 'never'})`];
  lines.push(`  best matches (all regions; ${MATCH_SCORE} or more is a match):`);
  lines.push(...table(psr.results ?? []));
  groups.forEach((g, i) => {
    const obj = g.objectAnnotations?.[0];
    lines.push(`  object ${i + 1}: ${obj ? `${obj.name} (${(obj.score ?? 0).toFixed(2)})` : 'region'}  ${box(g.boundingPoly)}`);
    lines.push(...table(g.results ?? []));
  });
  return lines.join('\n') + '\n';
}

function table(results: Result[]): string[] {
  if (results.length === 0) return ['      no matching products'];
  const rows = results.map((x) => [
    (x.score ?? 0).toFixed(3),
    (x.score ?? 0) >= MATCH_SCORE ? 'match' : 'below',
    x.product?.name?.split('/').pop() ?? '',
    x.product?.displayName ?? '',
    (x.product?.productLabels ?? []).map((l) => `${l.key}=${l.value}`).join(','),
  ]);
  const all = [['score', '', 'product', 'display name', 'labels'], ...rows];
  const widths = all[0].map((_, c) => Math.max(...all.map((row) => row[c].length)));
  return all.map(
    (row) =>
      `      ${row
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd()}`,
  );
}

/** The group's box as x and y ranges (normalized to [0, 1] or pixels, as the server gives). */
function box(poly: Poly | undefined): string {
  const vs = poly?.normalizedVertices?.length ? poly.normalizedVertices : (poly?.vertices ?? []);
  if (vs.length === 0) return '';
  const xs = vs.map((v) => v.x ?? 0);
  const ys = vs.map((v) => v.y ?? 0);
  const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  return `box x ${f(Math.min(...xs))}-${f(Math.max(...xs))}, y ${f(Math.min(...ys))}-${f(Math.max(...ys))}`;
}

/** The local files' bytes (undefined for URLs), or why one could not be read: a local problem, not the server's. */
async function readLocal(batch: string[]): Promise<(Buffer | undefined)[] | string> {
  try {
    return await Promise.all(batch.map((input) => (isUrl(input) ? Promise.resolve(undefined) : fs.readFile(input))));
  } catch (e) {
    return `cannot read ${(e as NodeJS.ErrnoException).path ?? 'a file'}: ${(e as Error).message}.`;
  }
}
