/**
 * `helm template` for the chart tests: helm from $HELM, else .tools/helm (tools/ci/
 * helm-check.sh fetches it; .ci/run runs that before the tests), else `helm` on PATH.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';

export const CHART = path.resolve(__dirname, '..', '..', 'helm', 'metapixel');

function findHelm(): string | undefined {
  const candidates = [process.env.HELM, path.resolve(__dirname, '..', '..', '.tools', 'helm'), 'helm'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['version', '--short'], { encoding: 'utf8' }).status === 0);
}

/** The helm binary, or undefined when there is none. */
export const HELM = findHelm();

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

/** `helm template` with the given values (written to a file, so numbers keep their type); stderr as `error` when it fails. */
export function renderChart(values: object): { objects: K8sObject[]; error?: string } {
  if (!HELM) throw new Error('no helm binary');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-helm-'));
  try {
    const file = path.join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    const r = spawnSync(HELM, ['template', 'm', CHART, '--namespace', 'ns', '-f', file], { encoding: 'utf8' });
    if (r.status !== 0) return { objects: [], error: r.stderr };
    return {
      objects: YAML.parseAllDocuments(r.stdout)
        .map((d) => d.toJS() as K8sObject)
        .filter(Boolean),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
