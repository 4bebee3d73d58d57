/** Line splitting of import CSVs: one entry per line, whatever the chunking of the bytes. */
import { readLines, type RawLine } from '../../../src/jobs/import/csv-lines';

async function lines(chunks: (string | Buffer)[], max = 64): Promise<RawLine[]> {
  async function* gen() {
    for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
  }
  const out: RawLine[] = [];
  for await (const l of readLines(gen(), max)) out.push(l);
  return out;
}

test('LF and CRLF end lines; a last line without newline counts; nothing after a final newline', async () => {
  expect(await lines(['a,b\r\nc\n', '\nd'])).toEqual([
    { index: 0, text: 'a,b' },
    { index: 1, text: 'c' },
    { index: 2, text: '' },
    { index: 3, text: 'd' },
  ]);
  expect(await lines(['x\n'])).toEqual([{ index: 0, text: 'x' }]);
  expect(await lines([])).toEqual([]);
});

test('every split of the bytes gives the same lines, multi-byte characters included', async () => {
  const text = Buffer.from('\ufeffgs://b/ä.jpg,é\nzweite,ß\n€,end');
  const whole = await lines([text]);
  expect(whole.map((l) => ('text' in l ? l.text : l.error))).toEqual(['gs://b/ä.jpg,é', 'zweite,ß', '€,end']); // BOM dropped
  for (let cut = 1; cut < text.length; cut++) {
    expect(await lines([text.subarray(0, cut), text.subarray(cut)])).toEqual(whole);
  }
});

test('an over-long line and bad UTF-8 fail only their own line', async () => {
  const got = await lines(['ok\n', 'x'.repeat(40), 'y'.repeat(40), '\n', Buffer.from([0x61, 0xff, 0x0a]), 'last'], 64);
  expect(got).toEqual([
    { index: 0, text: 'ok' },
    { index: 1, error: 'Line 1 is longer than 64 bytes.' },
    { index: 2, error: 'Line 2 is not valid UTF-8.' },
    { index: 3, text: 'last' },
  ]);
});
