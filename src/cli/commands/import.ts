/**
 * `metapixel import <csv|dir>`: ImportProductSets against a server, through Google's own
 * client. A gs:// CSV is imported as is; a local CSV, or a folder of images (one product
 * per sub-folder or per file), is first uploaded to --staging in the Cloud Storage the
 * server reads. Then the operation is watched with a progress bar (Metapixel's
 * GetOperationProgress) and a summary is printed; Ctrl-C cancels the operation.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { PRODUCT_CATEGORIES } from '../../catalog/rules';
import { connect, EXIT, EXIT_HELP, explainError, withServerOptions, type ServerOptions } from '../connection';
import { csvFor, parseStaging, planFolder, stagingWriter, uploadCsv, uploadFiles, type PlannedLine, type Staging } from '../import-staging';
import { reportImport, watchOperation } from '../import-watch';
import { intOption } from '../options';
import { progressBar } from '../progress';

export interface ImportCliOptions extends ServerOptions {
  staging?: string;
  productSet?: string;
  category?: string;
  wait: boolean;
  progress: boolean;
  showFailures: number;
}

/** A failure with the exit status it maps to. */
class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function importCommand(): Command {
  return withServerOptions(
    new Command('import')
      .description(
        'Import products and reference images (ImportProductSets) from a CSV or a folder of images, with a progress bar and a summary.',
      )
      .argument(
        '<csv|dir>',
        'a gs:// CSV URI, a local CSV file (uploaded to --staging), or a folder: <dir>/<product-id>/<images> or image files, one product each (id = file name)',
      ),
  )
    .option(
      '--staging <gs-prefix>',
      "gs://bucket/prefix/ to upload a local CSV or the folder's images and CSV to (the Cloud Storage the server reads: Google's with METAPIXEL_GCS_KEY_FILE or Application Default Credentials, STORAGE_EMULATOR_HOST, or METAPIXEL_GCS_DIR)",
    )
    .option('--product-set <id>', 'folder only: the product set to put the products in (created if missing)')
    .addOption(
      new Option('--category <category>', 'folder only: category of new products (default general-v1)').choices(PRODUCT_CATEGORIES),
    )
    .option('--no-wait', 'print the operation name and exit without waiting')
    .option('--no-progress', 'no progress bar or progress lines')
    .addOption(intOption('--show-failures <n>', 'failed lines to list in the text summary', 0, 1000000).default(10))
    .addHelpText(
      'after',
      `
CSV columns (Google's): image-uri,image-id,product-set-id,product-id,product-category,product-display-name,labels,bounding-poly
Progress goes to stderr: a bar on a terminal, otherwise a line every 5 s. The summary goes to stdout
(one JSON object with --json). Failed lines are numbered from 0, as the response's statuses.
Ctrl-C cancels the operation (CancelOperation) and waits for it to stop; a second Ctrl-C stops
waiting (exit 130). Lines imported before the cancel stay; re-running the same import is safe.

${EXIT_HELP}

Examples:
  metapixel import gs://catalog/products.csv --project my-project
  metapixel import products.csv --staging gs://catalog/imports/ --project my-project
  metapixel import photos/ --product-set shoes --category apparel-v2 --staging gs://catalog/shoes/ --project my-project
  metapixel import gs://catalog/big.csv --no-wait --json --project my-project`,
    )
    .action(async (input: string, opts: ImportCliOptions) => {
      process.exitCode = await runImport(input, opts);
    });
}

async function runImport(input: string, opts: ImportCliOptions): Promise<number> {
  const conn = connect(opts);
  try {
    const started = Date.now();
    const source = await stage(input, opts);
    const [op] = await server(
      conn.productSearch.importProductSets({ parent: conn.parent, inputConfig: { gcsSource: { csvFileUri: source.csvUri } } }),
      opts,
    );
    const name = op.name!;
    if (!opts.wait) {
      process.stdout.write(opts.json ? `${JSON.stringify({ operation: name, csvUri: source.csvUri })}\n` : `${name}\n`);
      return EXIT.OK;
    }
    if (!opts.json) process.stderr.write(`metapixel import: ${source.csvUri} -> ${name}\n`);
    const watched = await server(watchOperation(conn, name, opts.progress, opts), opts);
    if (watched.outcome === 'detached') {
      process.stderr.write(`metapixel import: stopped waiting; the operation goes on on the server: ${name}\n`);
      return 130;
    }
    const final = await server(conn.productSearch.checkImportProductSetsProgress(name), opts);
    return reportImport(final, { started, files: source.files, json: !!opts.json, showFailures: opts.showFailures, last: watched.last });
  } catch (e) {
    const failure = e instanceof CliFailure ? e : new CliFailure((e as Error).message, EXIT.USAGE);
    process.stderr.write(`metapixel import: ${failure.message}\n`);
    return failure.exitCode;
  } finally {
    await conn.close();
  }
}

/** A server call whose failure is reported as a server problem (exit 6), with what to do. */
async function server<T>(call: Promise<T>, opts: ServerOptions): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw new CliFailure(explainError(e, opts), EXIT.SERVER);
  }
}

interface Source {
  csvUri: string;
  /** Folder imports: the local file of each CSV line, for the summary. */
  files?: string[];
}

async function stage(input: string, opts: ImportCliOptions): Promise<Source> {
  const isGs = /^gs:\/\//i.test(input);
  const stat = isGs ? undefined : await fs.stat(input).catch(() => undefined);
  if (!isGs && !stat) throw new Error(`no such file or folder: ${input}. Give a gs:// CSV URI, a local CSV file, or a folder of images.`);
  if (!stat?.isDirectory() && (opts.productSet || opts.category)) {
    throw new Error('--product-set and --category apply to a folder; a CSV names the product set and category on each line.');
  }
  if (isGs) return { csvUri: input };
  if (!opts.staging)
    throw new Error(
      `a local ${stat!.isDirectory() ? 'folder' : 'CSV'} is uploaded first: give --staging gs://bucket/prefix/ (in the Cloud Storage the server reads).`,
    );
  const staging = parseStaging(opts.staging);
  const writer = stagingWriter();
  if (!stat!.isDirectory()) {
    const csv = await fs.readFile(input);
    return { csvUri: await uploadCsv(writer, staging, csv, path.basename(input, path.extname(input))) };
  }
  const productSetId = productSetIdOf(opts);
  const lines = await planFolder(input, staging);
  if (lines.length === 0)
    throw new Error(`no images in ${input}: expected ${input}/<product-id>/<image files> or image files (.jpg .png .webp …).`);
  await upload(writer, staging, lines, opts);
  const csv = Buffer.from(csvFor(lines, staging, { productSetId, category: opts.category ?? 'general-v1' }));
  return { csvUri: await uploadCsv(writer, staging, csv, `import-${productSetId}`), files: lines.map((l) => l.file) };
}

async function upload(
  writer: ReturnType<typeof stagingWriter>,
  staging: Staging,
  lines: PlannedLine[],
  opts: ImportCliOptions,
): Promise<void> {
  const t0 = Date.now();
  const bar = progressBar(lines.length, 'uploading', opts.progress);
  try {
    await uploadFiles(writer, staging.bucket, lines, 8, () => bar.tick(false));
  } finally {
    bar.stop();
  }
  const products = new Set(lines.map((l) => l.productId)).size;
  if (!opts.json)
    process.stderr.write(
      `metapixel import: uploaded ${lines.length} images of ${products} products to gs://${staging.bucket}/${staging.prefix} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
}

/** --product-set as an id, or as a full name of this project and location. */
function productSetIdOf(opts: ImportCliOptions): string {
  const given = opts.productSet;
  if (!given) throw new Error('a folder import needs --product-set <id>: the product set its products join.');
  const m = /^projects\/([^/]+)\/locations\/([^/]+)\/productSets\/([^/]+)$/.exec(given);
  if (!m) {
    if (given.includes('/')) throw new Error(`--product-set "${given}": give an id, or projects/P/locations/L/productSets/ID.`);
    return given;
  }
  if (m[1] !== opts.project || m[2] !== opts.location)
    throw new Error(`--product-set ${given} is not in --project ${opts.project} --location ${opts.location}.`);
  return m[3];
}
