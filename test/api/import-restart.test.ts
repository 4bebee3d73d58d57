/**
 * Acceptance 2 of the bulk-work issue: a server killed with SIGKILL in the middle of an
 * import resumes it after a restart on the same data, and the operation completes with
 * every line processed exactly once (one status per line, no duplicate reference image).
 */
import { productSearchClient } from '../support/clients';
import { startFakeGcs } from '../support/fake-gcs';
import { killAfterProgress, progressOf, putDevPhotos, restartScenario, stopGracefully } from '../support/restart';

const PARENT = 'projects/crash/locations/us-west1';

test('an import killed with SIGKILL resumes after restart and ends with every line imported once', async () => {
  const gcs = await startFakeGcs();
  await restartScenario('import-restart', async ({ start }) => {
    const photos = putDevPhotos(gcs, 'bucket');
    // No polygons (detection runs, so the import takes long enough to be killed in the
    // middle); ids given on most lines, derived from the URI on the last ones.
    const lines = Array.from(
      { length: 36 },
      (_, i) => `gs://bucket/${photos[i % photos.length]},img-${i},set,p-${i % 9},general-v1,P${i % 9},,`,
    );
    photos.forEach((f) => lines.push(`gs://bucket/${f},,set,q,general-v1,Q,,`));
    lines.splice(10, 0, 'gs://bucket/absent.jpg,gone,set,p-0,general-v1,,,');
    gcs.put('bucket', 'big.csv', Buffer.from(lines.join('\n')));
    const env = { STORAGE_EMULATOR_HOST: gcs.host };

    const first = await start(env);
    const client = productSearchClient(first, 'grpc');
    const [operation] = await client.importProductSets({
      parent: PARENT,
      inputConfig: { gcsSource: { csvFileUri: 'gs://bucket/big.csv' } },
    });
    await client.close();
    const name = operation.name!;
    const processed = await killAfterProgress(first, name, 1);
    expect(processed).toBeLessThan(lines.length);

    const second = await start(env);
    const again = productSearchClient(second, 'rest');
    const resumed = await again.checkImportProductSetsProgress(name);
    const [response] = await resumed.promise();
    const codes = response.statuses.map((s) => s.code ?? 0);
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
    expect(await progressOf(second, name)).toMatchObject({
      state: 'SUCCESSFUL',
      totalLines: String(lines.length),
      processedLines: String(lines.length),
      failedLines: '1',
    });
    await again.close();
    await stopGracefully(second);
  }).finally(() => gcs.close());
}, 300000);
