/**
 * Issue #15's request-level defects, each reproduced over raw HTTP (what a browser page or
 * a careless script sends; Google's own clients cannot send these).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const feature = [{ type: 'OBJECT_LOCALIZATION' }];
const annotate = (body: string) =>
  fetch(`${server.restUrl}/v1/images:annotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('line-wrapped base64 (issue #15 item 9)', () => {
  const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));

  test.each([
    ['the base64 command (76-column lines, trailing newline)', () => execFileSync('base64', { input: dog }).toString()],
    ["Python's encodebytes (76 columns, trailing newline)", () => dog.toString('base64').replace(/.{76}/g, '$&\n') + '\n'],
    ['CRLF line breaks', () => dog.toString('base64').replace(/.{64}/g, '$&\r\n') + '\r\n'],
  ])('%s is accepted', async (_what, encode) => {
    const content = encode();
    expect(content).toMatch(/=\s+$/); // the dog's length leaves padding before the final break
    const res = await annotate(JSON.stringify({ requests: [{ image: { content }, features: feature }] }));
    const body = (await res.json()) as { responses: { localizedObjectAnnotations?: unknown[]; error?: unknown }[] };
    expect(res.status).toBe(200);
    expect(body.responses[0].error).toBeUndefined();
    expect(body.responses[0].localizedObjectAnnotations!.length).toBeGreaterThan(0);
  });

  test('bad base64 names the field and the rule, never a regex', async () => {
    const res = await annotate(JSON.stringify({ requests: [{ image: { content: '!!!not*base64!!!' }, features: feature }] }));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toMatch(/requests\.0\.image\.content|requests\[0\]\.image\.content/);
    expect(error.message).toMatch(/base64/);
    expect(error.message).not.toMatch(/pattern|\^|\$"/);
  });
});
