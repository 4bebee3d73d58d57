/**
 * AsyncBatchAnnotateImages survives a SIGKILL: a server killed after some output files are
 * written resumes the operation after a restart on the same data, and the operation ends
 * with every output file written once, each holding its own images' answers in order.
 */
import { imageAnnotatorClient } from '../support/clients';
import { startFakeGcs } from '../support/fake-gcs';
import { killAfterProgress, progressOf, putDevPhotos, restartScenario, stopGracefully } from '../support/restart';

const PARENT = 'projects/crash/locations/eu';

test('an async annotate killed with SIGKILL resumes after restart; every batch file is written once, in order', async () => {
  const gcs = await startFakeGcs();
  await restartScenario('async-restart', async ({ start }) => {
    const photos = putDevPhotos(gcs, 'photos');
    // 36 images in batches of 3: long enough to be killed between two files.
    const images = Array.from({ length: 36 }, (_, i) => (i === 7 ? 'absent.jpg' : photos[i % photos.length]));
    const requests = images.map((f) => ({
      image: { source: { imageUri: `gs://photos/${f}` } },
      features: [{ type: 'OBJECT_LOCALIZATION' as const }],
    }));
    const env = { STORAGE_EMULATOR_HOST: gcs.host };

    const first = await start(env);
    const client = imageAnnotatorClient(first, 'grpc');
    const [operation] = await client.asyncBatchAnnotateImages({
      parent: PARENT,
      requests,
      outputConfig: { gcsDestination: { uri: 'gs://out/run-' }, batchSize: 3 },
    });
    await client.close();
    const name = operation.name!;
    // At least two files written before the kill, so that a restart from scratch shows.
    const processed = await killAfterProgress(first, name, 6);
    expect(processed).toBeLessThan(images.length);
    const uploaded = (from: number) =>
      gcs.requests
        .slice(from)
        .filter((u) => u.startsWith('/upload/'))
        .map((u) => new URL(u, 'http://x').searchParams.get('name')!);
    const before = uploaded(0);
    const killedAt = gcs.requests.length;
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.length).toBeLessThan(12);

    const second = await start(env);
    const again = imageAnnotatorClient(second, 'rest');
    const resumed = await again.checkAsyncBatchAnnotateImagesProgress(name);
    await resumed.promise();
    const files = Array.from({ length: 12 }, (_, b) => `run-output-${3 * b + 1}-to-${3 * b + 3}.json`);
    expect(gcs.list('out', 'run-')).toEqual([...files].sort());
    // Each file holds its own three images' answers, in request order; the missing object
    // is answered NOT_FOUND in its place (image 8, the second of file 3).
    for (const [b, file] of files.entries()) {
      const out = JSON.parse(Buffer.from(gcs.get('out', file)!).toString('utf8')) as {
        responses: { error?: { code: number }; localizedObjectAnnotations?: unknown[] }[];
      };
      expect(out.responses).toHaveLength(3);
      out.responses.forEach((r, k) => {
        if (3 * b + k === 7) expect(r.error?.code).toBe(5);
        else expect(r.error).toBeUndefined();
      });
    }
    // The resumed run wrote the files not written before the kill, plus at most the last one
    // written before it (written, but killed before its checkpoint; same name and content).
    const after = uploaded(killedAt);
    const rewritten = after.filter((f) => before.includes(f));
    expect(rewritten.length === 0 || (rewritten.length === 1 && rewritten[0] === before[before.length - 1])).toBe(true);
    expect(new Set([...before, ...after]).size).toBe(12);
    expect(await progressOf(second, name)).toMatchObject({
      state: 'SUCCESSFUL',
      done: true,
      totalLines: '36',
      processedLines: '36',
      failedLines: '1',
    });
    await again.close();
    await stopGracefully(second);
  }).finally(() => gcs.close());
}, 300000);
