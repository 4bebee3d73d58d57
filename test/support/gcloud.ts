/**
 * The real gcloud CLI pointed at a local server, as ../shared/facts/google-api.md verified:
 * endpoint override, credentials disabled, an isolated config directory per runner.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface GcloudRunner {
  /** Runs gcloud with `args` plus `--project PROJECT --quiet`; resolves with stdout. */
  (...args: string[]): Promise<string>;
  configDir: string;
  cleanup(): void;
}

export function gcloudFor(restUrl: string, project: string): GcloudRunner {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'gcloud-'));
  const runner = (async (...args: string[]) => {
    const { stdout } = await run('gcloud', [...args, '--project', project, '--quiet'], {
      env: {
        ...process.env,
        CLOUDSDK_API_ENDPOINT_OVERRIDES_VISION: `${restUrl}/`,
        CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'true',
        CLOUDSDK_CONFIG: configDir,
        CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
      },
      timeout: 60000,
    });
    return stdout;
  }) as GcloudRunner;
  runner.configDir = configDir;
  runner.cleanup = () => rmSync(configDir, { recursive: true, force: true });
  return runner;
}
