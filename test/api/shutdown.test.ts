/**
 * Graceful shutdown: SIGTERM while a REST call is still in flight (its body arrives slowly)
 * lets that call complete with 200, then the process exits 0.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnServer } from '../support/process';

test('SIGTERM finishes the in-flight call, then exits 0', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-shutdown-'));
  try {
    const server = await spawnServer({ METAPIXEL_DATA_DIR: dataDir });
    const body = JSON.stringify({ displayName: 'Created during shutdown' });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        `${server.restUrl}/v1/projects/p/locations/l/productSets?productSetId=slow`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      // First half now, SIGTERM, second half a second later.
      req.write(body.slice(0, 10));
      setTimeout(() => server.child.kill('SIGTERM'), 200);
      setTimeout(() => req.end(body.slice(10)), 1200);
    });
    const res = await response;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ name: 'projects/p/locations/l/productSets/slow', displayName: 'Created during shutdown' });
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('shutting down');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
