/**
 * What `metapixel migrate` prints on stdout: the dry run's list of steps, or the summary of
 * a run (counts per kind, then each failure with its resource name and error), as text or
 * one JSON object; and the exit status that goes with it.
 */
import { EXIT } from './connection';
import { KINDS, KIND_LABEL, type Plan } from './migrate-plan';
import type { Outcome } from './migrate-run';

export interface Where {
  from: string;
  to: string;
  sourceParent: string;
  targetParent: string;
}

const out = (s: string) => process.stdout.write(s);

export function printDryRun(plan: Plan, where: Where, json: boolean): number {
  const count = (kind: string, op: string) => plan.steps.filter((s) => s.kind === kind && s.op === op).length;
  const counts = Object.fromEntries(
    KINDS.map((k) => [
      k,
      { create: count(k, 'create'), update: count(k, 'update'), conflict: count(k, 'conflict'), skip: plan.skipped[k] },
    ]),
  );
  if (json) {
    out(
      `${JSON.stringify({ dryRun: true, ...where, counts, steps: plan.steps.map(({ kind, name, op, detail }) => ({ kind, name, op, ...(detail ? { detail } : {}) })) })}\n`,
    );
    return EXIT.OK;
  }
  out(`Dry run, nothing changed: ${where.sourceParent} at ${where.from} -> ${where.targetParent} at ${where.to}\n`);
  for (const s of plan.steps) out(`  ${s.op.padEnd(8)} ${s.name}${s.detail ? `  (${s.detail})` : ''}\n`);
  out(table(['create', 'update', 'conflict', 'same'], (k) => [counts[k].create, counts[k].update, counts[k].conflict, counts[k].skip]));
  return EXIT.OK;
}

export function printSummary(outcome: Outcome, o: Where & { seconds: number; json: boolean; showFailures: number }): number {
  const failed = outcome.failures.length;
  const code = failed ? EXIT.SOME_FAILED : EXIT.OK;
  if (o.json) {
    const { json: _json, showFailures: _show, seconds, ...where } = o;
    out(
      `${JSON.stringify({ ...where, counts: outcome.counts, failures: outcome.failures, elapsedSeconds: Number(seconds.toFixed(1)) })}\n`,
    );
    return code;
  }
  out(
    `Migration ${failed ? 'finished with failures' : 'complete'}: ${o.sourceParent} at ${o.from} -> ${o.targetParent} at ${o.to} in ${o.seconds.toFixed(1)} s\n`,
  );
  out(
    table(['copied', 'updated', 'skipped', 'failed'], (k) => [
      outcome.counts[k].copied,
      outcome.counts[k].updated,
      outcome.counts[k].skipped,
      outcome.counts[k].failed,
    ]),
  );
  if (failed && o.showFailures > 0) {
    const shown = outcome.failures.slice(0, o.showFailures);
    out(`Failures (${shown.length} of ${failed}; rerun to retry them):\n`);
    for (const f of shown) out(`  ${f.name}: ${f.error}\n`);
  }
  return code;
}

function table(columns: string[], row: (kind: (typeof KINDS)[number]) => number[]): string {
  const head = `  ${''.padEnd(18)}${columns.map((c) => c.padStart(9)).join('')}\n`;
  return (
    head +
    KINDS.map(
      (k) =>
        `  ${KIND_LABEL[k].padEnd(18)}${row(k)
          .map((n) => String(n).padStart(9))
          .join('')}\n`,
    ).join('')
  );
}
