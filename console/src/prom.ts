/** Reads Prometheus text exposition (what /metrics serves): samples by name and labels. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/**
 * The q-quantile of a histogram from its cumulative buckets, as the upper bound of its
 * bucket; past the last finite bucket, `over` is set and `le` is that bound. Undefined
 * when the histogram is empty.
 */
export function quantile(samples: Sample[], name: string, q: number): { le: number; over: boolean } | undefined {
  const buckets = samples
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), n: s.value }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.n ?? 0;
  if (total === 0) return undefined;
  const le = buckets.find((b) => b.n >= q * total)?.le ?? Infinity;
  const lastFinite = buckets.filter((b) => Number.isFinite(b.le)).at(-1)?.le ?? 0;
  return Number.isFinite(le) ? { le, over: false } : { le: lastFinite, over: true };
}
