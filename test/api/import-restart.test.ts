/**
 * Acceptance 2 of the bulk-work issue: a server killed with SIGKILL in the middle of an
 * import resumes it after a restart on the same data, and the operation completes with
 * every line processed exactly once (one status per line, no duplicate reference image).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { productSearchClient } from '../support/clients';
import { startFakeGcs } from '../support/fake-gcs';
import { spawnServer } from '../support/process';
import { killAfterProgress, progressOf, putDevPhotos } from '../support/restart';

const PARENT = 'projects/crash/locations/us-west1';

test('an import killed with SIGKILL resumes after restart and ends with every line imported once', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-import-restart-'));
  const gcs = await startFakeGcs();
  try {
    const photos = putDevPhotos(gcs, 'bucket');
    // No polygons (detection runs, so the import takes long enough to be killed in the
    // middle); ids given on most lines, derived from the URI on the last ones.
    const lines = Array.from({ length: 36 }, (_, i) => `gs://bucket/${photos[i % photos.length]},img-${i},set,p-${i % 9},general-v1,P${i % 9},,`);
    photos.forEach((f) => lines.push(`gs://bucket/${f},,set,q,general-v1,Q,,`));
    lines.splice(10, 0, 'gs://bucket/absent.jpg,gone,set,p-0,general-v1,,,');
    gcs.put('bucket', 'big.csv', Buffer.from(lines.join('\n')));
    const env = { METAPIXEL_DATA_DIR: dataDir, STORAGE_EMULATOR_HOST: gcs.host, METAPIXEL_JOB_LEASE_MS: '2000', METAPIXEL_LOG_LEVEL: 'warn' };

    const first = await spawnServer(env, 60000);
    const client = productSearchClient(first, 'grpc');
    const [operation] = await client.importProductSets({ parent: PARENT, inputConfig: { gcsSource: { csvFileUri: 'gs://bucket/big.csv' } } });
    await client.close();
    const name = operation.name!;
    const processed = await killAfterProgress(first, name, 1);
    expect(processed).toBeLessThan(lines.length);

    const second = await spawnServer(env, 60000);
    const again = productSearchClient(second, 'rest');
    const resumed = await again.checkImportProductSetsProgress(name);
    const [response] = await resumed.promise();
    const codes = response.statuses!.map((s) => s.code ?? 0);
    expect(codes).toEqual(lines.map((l) => (l.includes('absent.jpg') ? 5 : 0)));
    expect(response.referenceImages).toHaveLength(lines.length - 1);

    // Exactly once: every good line left one image, none left two.
    const uris: string[] = [];
    for (const product of [...Array.from({ length: 9 }, (_, i) => `p-${i}`), 'q']) {
      const [images] = await again.listReferenceImages({ parent: `${PARENT}/products/${product}`, pageSize: 100 });
      uris.push(...images.map((r) => r.name!));
    }
    expect(uris.length).toBe(lines.length - 1);
    expect(new Set(uris).size).toBe(uris.length);
    const [inSet] = await again.listProductsInProductSet({ name: `${PARENT}/productSets/set`, pageSize: 100 });
    expect(inSet).toHaveLength(10);
    expect(await progressOf(second, name)).toMatchObject({ state: 'SUCCESSFUL', totalLines: String(lines.length), processedLines: String(lines.length), failedLines: '1' });
    await again.close();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  } finally {
    await gcs.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 300000);
