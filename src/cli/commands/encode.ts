/**
 * `metapixel encode <file|dir|url>...`: images:encode run locally, without a server. The
 * pipeline is built by the same builder the server uses (image-pipeline.ts), so the codes
 * are those a server with the same settings answers and its index stores. Writes one
 * proto3-JSON line per image to stdout (the EncodeImageResponse plus `input`), in input
 * order; a progress bar and a summary go to stderr. Exit status 1 when any image failed.
 */
import { promises as fs } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { loadConfig, type Config } from '../../config/config';
import { invalidArgument, notFound, type MetapixelError } from '../../core/errors';
import { PRODUCT_CATEGORIES } from '../../catalog/rules';
import { lookupType } from '../../api/proto/load';
import { toJson } from '../../api/proto/json-codec';
import { buildEncodeService, buildImagePipeline } from '../../app/image-pipeline';
import { MAX_ITEMS, type EncodeImageResponseMsg, type EncodeService, type EncodeOptionsMsg } from '../../encode/encode-service';
import { expandInputs, type ImageInput } from '../inputs';
import { intOption, numberOption } from '../options';
import { progressBar } from '../progress';

interface EncodeCliOptions {
  maxItems?: number;
  category?: string;
  minScore?: number;
  codeBits?: string;
  concurrency: number;
  progress: boolean;
}

export function encodeCommand(): Command {
  return new Command('encode')
    .description(
      'Encode images locally (no server needed): one JSON line per image on stdout with its items (category, name, MID, score, box) and their binary codes, and the whole-image code.',
    )
    .argument(
      '<inputs...>',
      'image files, folders (searched recursively for .jpg .png .webp .gif .avif .heic .tif .jp2), or http(s):// and gs:// URLs',
    )
    .addOption(
      intOption('--max-items <n>', `most items per image (1-${MAX_ITEMS}; default METAPIXEL_DEFAULT_MAX_RESULTS, 10)`, 1, MAX_ITEMS),
    )
    .addOption(
      new Option(
        '--category <category>',
        'only items of classes that fit this product category (the regions the index keeps for it); default: every item',
      ).choices(PRODUCT_CATEGORIES),
    )
    .addOption(
      numberOption(
        '--min-score <score>',
        'leave out items scored below this (above 0, below 1; default METAPIXEL_MIN_OBJECT_SCORE, 0.5)',
        0,
        1,
        true,
      ),
    )
    .addOption(
      new Option('--code-bits <bits>', 'code length (METAPIXEL_CODE_BITS, default 128); compare only codes of one length').choices([
        '64',
        '128',
        '256',
      ]),
    )
    .addOption(intOption('--concurrency <n>', 'images in flight at once (1-16: more only fills the inference queues)', 1, 16).default(4))
    .option('--no-progress', 'no progress bar, even on a terminal')
    .addHelpText(
      'after',
      `
Output (one line per image, input order):
  {"input":"photos/dog.jpg","items":[{"category":"general-v1","name":"Dog","mid":"/m/0bt9lr","score":0.91,
    "boundingPoly":{"normalizedVertices":[...]},"code":{"hex":"...","bits":"0110...","length":128}}],
   "imageCode":{...},"codeScheme":{"length":128,"method":"PCA_SIGN","fingerprint":"..."}}
  A failed image: {"input":"bad.jpg","error":{"code":3,"message":"Bad image data: ..."}}; the exit status is then 1.
See docs/codes.md for the bit order and how to search codes.

Examples:
  metapixel encode photos/ > codes.jsonl
  metapixel encode --category apparel-v2 shoe.jpg https://example.com/bag.jpg`,
    )
    .action(async (inputs: string[], opts: EncodeCliOptions) => {
      process.exitCode = await runEncode(inputs, opts);
    });
}

async function runEncode(args: string[], opts: EncodeCliOptions): Promise<number> {
  const config = loadConfig({ ...process.env, ...(opts.codeBits ? { METAPIXEL_CODE_BITS: opts.codeBits } : {}) });
  // A reader that goes away (`| head`) is not an error of ours.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const inputs = await expandInputs(args);
  if (inputs.length === 0) {
    process.stderr.write(`metapixel encode: no image files found in ${args.join(', ')} (looked for image extensions, recursively).\n`);
    return 1;
  }
  const started = Date.now();
  const pipeline = await buildImagePipeline(config).catch((e: unknown) => {
    throw new Error(
      `could not load the models: ${(e as Error).message}. Set METAPIXEL_MODELS_DIR to the folder holding manifest.json and hashing/.`,
    );
  });
  const counts = { images: 0, failed: 0, items: 0 };
  try {
    const service = buildEncodeService(pipeline, config, pino({ level: 'warn' }, pino.destination(2)));
    const type = lookupType('metapixel.v1.EncodeImageResponse');
    const options: EncodeOptionsMsg = { maxItems: opts.maxItems ?? 0, productCategory: opts.category ?? '', minScore: opts.minScore ?? 0 };
    const bar = progressBar(inputs.length, 'encoding', opts.progress);
    await inOrder(
      inputs,
      opts.concurrency,
      (input) => encodeInput(service, input, options, config),
      async (input, res) => {
        counts.images++;
        if (res.error) counts.failed++;
        counts.items += res.items?.length ?? 0;
        bar.tick(!!res.error);
        await writeLine(JSON.stringify({ input: input.input, ...(toJson(type, res) as object) }));
      },
    );
    bar.stop();
  } finally {
    await pipeline.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const ok = counts.images - counts.failed;
  process.stderr.write(
    `metapixel encode: ${ok} of ${counts.images} images encoded (${counts.items} items, ${config.codeBits}-bit codes) in ${seconds.toFixed(1)} s` +
      (counts.failed ? `; ${counts.failed} failed: their lines on stdout carry "error" with the reason.\n` : '.\n'),
  );
  return counts.failed ? 1 : 0;
}

async function encodeInput(
  service: EncodeService,
  input: ImageInput,
  options: EncodeOptionsMsg,
  config: Readonly<Config>,
): Promise<EncodeImageResponseMsg> {
  if (input.kind === 'missing') return { error: notFound(input.problem!).toStatus() };
  if (input.kind === 'url') return service.encodeImage({ image: { source: { imageUri: input.input } }, options });
  let content: Buffer;
  try {
    // Checked before reading, so that a huge file is refused without loading it.
    const { size } = await fs.stat(input.input);
    if (size > config.maxImageBytes)
      throw invalidArgument(`The image is ${size} bytes; the limit is ${config.maxImageBytes} (METAPIXEL_MAX_IMAGE_BYTES).`);
    content = await fs.readFile(input.input);
  } catch (e) {
    const err = (e as MetapixelError).toStatus ? (e as MetapixelError) : notFound(`Cannot read ${input.input}: ${(e as Error).message}.`);
    return { error: err.toStatus() };
  }
  return service.encodeImage({ image: { content }, options });
}

/** Runs `work` on up to `limit` items at once and hands the results to `emit` in input order. */
async function inOrder<T, R>(
  items: readonly T[],
  limit: number,
  work: (t: T) => Promise<R>,
  emit: (t: T, r: R) => Promise<void>,
): Promise<void> {
  const window: { item: T; result: Promise<R> }[] = [];
  for (const item of items) {
    window.push({ item, result: work(item) });
    if (window.length >= limit) {
      const head = window.shift()!;
      await emit(head.item, await head.result);
    }
  }
  for (const head of window) await emit(head.item, await head.result);
}

/** Writes one line, waiting when the reader is slower than us (bounded memory). */
function writeLine(line: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(line + '\n')) resolve();
    else process.stdout.once('drain', resolve);
  });
}
