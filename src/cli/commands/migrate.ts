/**
 * `metapixel migrate --from URL --to URL`: copies a catalog (product sets, products,
 * memberships, reference images) from any Vision Product Search endpoint (Google's, or
 * another Metapixel) to a Metapixel, through Google's own ProductSearchClient over gRPC on
 * both sides, keeping resource ids. Both catalogs are listed first and compared, so a rerun
 * copies only what is missing or different: no journal, and a run killed midway is
 * completed by the next.
 */
import { Command, Option } from 'commander';
import { EXIT } from '../connection';
import { connectGrpc, GOOGLE_ENDPOINT, parseGrpcUrl, type GrpcConnection } from '../grpc-connection';
import { readCatalog } from '../migrate-catalog';
import { planMigration } from '../migrate-plan';
import { errorText, runPlan } from '../migrate-run';
import { printDryRun, printSummary } from '../migrate-report';
import { intOption } from '../options';
import { countProgress } from '../progress';

export interface MigrateCliOptions {
  from: string;
  to: string;
  project: string;
  location: string;
  toProject?: string;
  toLocation?: string;
  fromApiKey?: string;
  fromAccessToken?: string;
  toApiKey?: string;
  toAccessToken?: string;
  concurrency: number;
  detectRegions?: boolean;
  dryRun?: boolean;
  progress: boolean;
  showFailures: number;
  json?: boolean;
}

export const DEFAULT_TARGET = 'http://127.0.0.1:50051';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description(
      "Copy product sets, products, memberships and reference images from a Vision Product Search endpoint (Google's, or another Metapixel) to a Metapixel, over gRPC; resumable and idempotent.",
    )
    .addOption(
      new Option('--from <url>', "source gRPC endpoint: Google's (Application Default Credentials), or a Metapixel's gRPC port")
        .default(parseGrpcUrl(GOOGLE_ENDPOINT), GOOGLE_ENDPOINT)
        .argParser(parseGrpcUrl),
    )
    .addOption(
      new Option('--to <url>', "target Metapixel's gRPC endpoint (http:// plaintext, https:// TLS)")
        .default(DEFAULT_TARGET)
        .argParser(parseGrpcUrl),
    )
    .addOption(new Option('--project <id>', 'project to copy').env('METAPIXEL_PROJECT').makeOptionMandatory())
    .addOption(new Option('--location <id>', 'location to copy').env('METAPIXEL_LOCATION').default('us-west1'))
    .option('--to-project <id>', 'project on the target (default: --project)')
    .option('--to-location <id>', 'location on the target (default: --location)')
    .addOption(new Option('--from-api-key <key>', 'API key for a source Metapixel').env('METAPIXEL_FROM_API_KEY'))
    .addOption(
      new Option(
        '--from-access-token <token>',
        'bearer token for the source (Google: instead of ADC, e.g. `gcloud auth print-access-token`)',
      ).env('METAPIXEL_FROM_ACCESS_TOKEN'),
    )
    .addOption(new Option('--to-api-key <key>', 'API key for the target').env('METAPIXEL_API_KEY'))
    .addOption(
      new Option('--to-access-token <token>', 'bearer token for the target (its METAPIXEL_BEARER_TOKENS)').env('METAPIXEL_ACCESS_TOKEN'),
    )
    .addOption(intOption('--concurrency <n>', 'calls in flight on each side', 1, 64).default(8))
    .option(
      '--detect-regions',
      'create reference images without polygons, so the target finds the regions itself (polygons are then not compared)',
    )
    .option('--dry-run', 'list what would be copied or updated, change nothing')
    .option('--no-progress', 'no progress bar or progress lines')
    .addOption(intOption('--show-failures <n>', 'failures to list in the text summary', 0, 1000000).default(20))
    .option('--json', 'one JSON object on stdout instead of text')
    .addHelpText(
      'after',
      `
Resource ids are kept. Both catalogs are listed and compared first: a resource already on
the target as on the source is skipped; a set's display name and a product's display name,
description and labels are updated when they differ; a product whose category differs, or
a reference image whose URI or polygons differ, cannot be updated and is reported as failed.
So a rerun copies nothing, and a run that was stopped (even kill -9) is completed by the next.
The target reads reference images from their gs:// URIs: it needs access to the same buckets.

Exit status:
  0  everything is on the target (or --dry-run listed it)
  1  bad usage
  3  finished, but some resources failed (listed with their error)
  6  a server could not be reached or refused to list the catalog

Examples:
  metapixel migrate --project my-project --location us-west1 --to http://metapixel:50051
  metapixel migrate --from http://old-host:50051 --to http://new-host:50051 --project p --dry-run
  METAPIXEL_FROM_API_KEY=k1 METAPIXEL_API_KEY=k2 metapixel migrate --from https://a.example:443 --to http://127.0.0.1:50051 --project p`,
    )
    .action(async (opts: MigrateCliOptions) => {
      process.exitCode = await runMigrate(opts);
    });
}

async function runMigrate(opts: MigrateCliOptions): Promise<number> {
  const started = Date.now();
  const sourceParent = `projects/${opts.project}/locations/${opts.location}`;
  const targetParent = `projects/${opts.toProject ?? opts.project}/locations/${opts.toLocation ?? opts.location}`;
  if (opts.from === opts.to && sourceParent === targetParent) {
    process.stderr.write('metapixel migrate: --from and --to are the same endpoint, project and location: nothing to copy.\n');
    return EXIT.USAGE;
  }
  const source = connectGrpc({ url: opts.from, apiKey: opts.fromApiKey, accessToken: opts.fromAccessToken });
  const target = connectGrpc({ url: opts.to, apiKey: opts.toApiKey, accessToken: opts.toAccessToken });
  try {
    const say = (line: string) => !opts.json && opts.progress && process.stderr.write(`metapixel migrate: ${line}\n`);
    say(`listing ${sourceParent} at ${opts.from}`);
    const progress = opts.progress && !opts.json;
    const from = await listing(source, sourceParent, opts.concurrency, 'source', progress);
    say(`listing ${targetParent} at ${opts.to}`);
    // The target's per-set and per-product lists matter only where the source has data.
    const to = await listing(target, targetParent, opts.concurrency, 'target', progress, {
      sets: (id) => from.sets.has(id),
      products: (id) => (from.images.get(id)?.size ?? 0) > 0,
    });
    const plan = planMigration(from, to, targetParent, { detectRegions: !!opts.detectRegions });
    const where = { from: opts.from, to: opts.to, sourceParent, targetParent };
    if (opts.dryRun) return printDryRun(plan, where, !!opts.json);
    const outcome = await runPlan(target, targetParent, plan, { concurrency: opts.concurrency, progress });
    return printSummary(outcome, { ...where, seconds: (Date.now() - started) / 1000, json: !!opts.json, showFailures: opts.showFailures });
  } catch (e) {
    process.stderr.write(`metapixel migrate: ${(e as Error).message}\n`);
    return EXIT.SERVER;
  } finally {
    // A client whose credentials could not be loaded rejects close() with that error again.
    await Promise.all([source.close(), target.close()].map((p) => p.catch(() => undefined)));
  }
}

async function listing(
  conn: GrpcConnection,
  parent: string,
  concurrency: number,
  side: string,
  progress: boolean,
  only?: Parameters<typeof readCatalog>[3],
) {
  const bar = countProgress(`listing ${side}`, 'products', progress);
  try {
    await conn.ready();
    return await readCatalog(conn, parent, concurrency, only, (done, total) => bar.update(done, total, 0));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const hint = conn.google
      ? ' (Google: are Application Default Credentials set up? `gcloud auth application-default login`, or --from-access-token)'
      : code === 14
        ? " (is it the server's gRPC port, GRPC_PORT, 50051 by default? The REST port does not serve gRPC)"
        : '';
    throw new Error(`cannot list the ${side} catalog ${parent} at ${conn.url}: ${errorText(e)}${hint}`, { cause: e });
  } finally {
    bar.stop();
  }
}
