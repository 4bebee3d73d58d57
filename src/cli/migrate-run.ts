/**
 * Carries out a migration plan on the target: one kind after another (sets, products,
 * reference images, memberships), each with at most `concurrency` calls in flight, retried
 * on UNAVAILABLE and RESOURCE_EXHAUSTED. Every step ends copied, updated, skipped or failed;
 * a failure keeps its resource name and error, and the steps that needed it are failed
 * without being tried.
 */
import { mapLimit } from '../core/concurrency';
import { statusName } from './connection';
import type { GrpcConnection } from './grpc-connection';
import { KINDS, KIND_LABEL, type Call, type Kind, type Plan, type Step } from './migrate-plan';
import { withRetry } from './migrate-retry';
import { countProgress } from './progress';

export interface Counts {
  copied: number;
  updated: number;
  skipped: number;
  failed: number;
}

export interface Failure {
  kind: Kind;
  name: string;
  error: string;
}

export interface Outcome {
  counts: Record<Kind, Counts>;
  failures: Failure[];
}

export interface RunOptions {
  concurrency: number;
  progress: boolean;
}

const ALREADY_EXISTS = 6;

export async function runPlan(conn: GrpcConnection, parent: string, plan: Plan, opts: RunOptions): Promise<Outcome> {
  const counts = Object.fromEntries(KINDS.map((k) => [k, { copied: 0, updated: 0, skipped: plan.skipped[k], failed: 0 }])) as Record<
    Kind,
    Counts
  >;
  const failures: Failure[] = [];
  const failedNames = new Set<string>();
  const fail = (step: Step, error: string) => {
    counts[step.kind].failed++;
    failures.push({ kind: step.kind, name: step.name, error });
    failedNames.add(step.name);
  };
  for (const kind of KINDS) {
    const steps = plan.steps.filter((s) => s.kind === kind);
    for (const s of steps) if (s.op === 'conflict') fail(s, `differs: ${s.detail}`);
    const work = steps.filter((s) => s.op !== 'conflict');
    if (!work.length) continue;
    const bar = countProgress('migrate', KIND_LABEL[kind], opts.progress);
    let done = 0;
    let failed = 0;
    await mapLimit(work, opts.concurrency, async (step) => {
      const missing = step.after.find((n) => failedNames.has(n));
      if (missing) fail(step, `not tried: ${missing} was not copied`);
      else {
        try {
          const result = await withRetry((attempt) => call(conn, parent, step.call!, attempt));
          counts[kind][result]++;
        } catch (e) {
          fail(step, errorText(e));
        }
      }
      if (failedNames.has(step.name)) failed++;
      bar.update(++done, work.length, failed);
    });
    bar.stop();
  }
  return { counts, failures };
}

async function call(conn: GrpcConnection, parent: string, c: Call, attempt: number): Promise<keyof Counts> {
  const { client, callOptions: o } = conn;
  try {
    switch (c.rpc) {
      case 'createProductSet':
        await client.createProductSet({ parent, productSetId: c.setId, productSet: { displayName: c.displayName } }, o);
        return 'copied';
      case 'updateProductSet':
        await client.updateProductSet(
          { productSet: { name: `${parent}/productSets/${c.setId}`, displayName: c.displayName }, updateMask: { paths: ['display_name'] } },
          o,
        );
        return 'updated';
      case 'createProduct':
        await client.createProduct(
          { parent, productId: c.productId, product: { ...productFields(c.product), productCategory: c.product.productCategory } },
          o,
        );
        return 'copied';
      case 'updateProduct':
        await client.updateProduct(
          { product: { name: `${parent}/products/${c.productId}`, ...productFields(c.product) }, updateMask: { paths: c.mask } },
          o,
        );
        return 'updated';
      case 'createReferenceImage':
        await client.createReferenceImage(
          {
            parent: `${parent}/products/${c.productId}`,
            referenceImageId: c.imageId,
            referenceImage: { uri: c.image.uri, boundingPolys: c.image.boundingPolys },
          },
          o,
        );
        return 'copied';
      case 'addProductToProductSet':
        await client.addProductToProductSet({ name: `${parent}/productSets/${c.setId}`, product: `${parent}/products/${c.productId}` }, o);
        return 'copied';
      default: {
        const never: never = c;
        throw new Error(`unknown call ${JSON.stringify(never)}`);
      }
    }
  } catch (e) {
    // A retried create whose first try landed (the answer was lost) finds its own resource;
    // on a first try, something else made it since the target was listed: left as it is.
    if ((e as { code?: unknown }).code === ALREADY_EXISTS) return attempt > 1 ? 'copied' : 'skipped';
    throw e;
  }
}

function productFields(p: { displayName: string; description: string; labels: { key: string; value: string }[] }) {
  return { displayName: p.displayName, description: p.description, productLabels: p.labels };
}

/** A gRPC error as `STATUS: details`. */
export function errorText(err: unknown): string {
  const e = err as { code?: unknown; details?: string; message?: string };
  if (typeof e.code === 'number') return `${statusName(e.code)}: ${e.details || e.message || ''}`;
  return e.message ?? String(err);
}
