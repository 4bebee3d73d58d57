/**
 * Acceptance 3 (second half) of the catalog issue: on the embedded store, a server killed
 * with SIGKILL in the middle of a stream of writes loses none that it confirmed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { productSearchClient } from '../support/clients';
import { spawnServer } from '../support/process';

test('every confirmed write survives kill -9 and a restart', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-restart-'));
  try {
    const first = await spawnServer({ METAPIXEL_DATA_DIR: dataDir });
    const client = productSearchClient(first, 'grpc');
    const parent = 'projects/durable/locations/us-west1';
    await client.createProductSet({ parent, productSetId: 'set', productSet: { displayName: 'Set' } });
    const confirmed: string[] = [];
    let stop = false;
    // No retries and a short deadline: once the server is gone a call must fail, not wait.
    const once = { timeout: 3000, maxRetries: 0 };
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${String(i).padStart(4, '0')}`;
        try {
          await client.createProduct(
            {
              parent,
              productId: id,
              product: { displayName: id, productCategory: 'toys-v2', productLabels: [{ key: 'n', value: String(i) }] },
            },
            once,
          );
          await client.addProductToProductSet({ name: `${parent}/productSets/set`, product: `${parent}/products/${id}` }, once);
          confirmed.push(id);
        } catch {
          return; // the server is gone: this write was never confirmed
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    stop = true;
    await first.exited;
    await Promise.all(writers);
    await client.close();
    expect(confirmed.length).toBeGreaterThan(10);

    const second = await spawnServer({ METAPIXEL_DATA_DIR: dataDir });
    const again = productSearchClient(second, 'rest');
    const [inSet] = await again.listProductsInProductSet({ name: `${parent}/productSets/set` });
    const present = new Set(inSet.map((p) => p.name!.split('/').pop()!));
    const missing = confirmed.filter((id) => !present.has(id));
    expect(missing).toEqual([]);
    const [one] = await again.getProduct({ name: `${parent}/products/${confirmed[confirmed.length - 1]}` });
    expect(one.productLabels).toHaveLength(1);
    await again.close();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
