/**
 * Splits a byte stream into its lines, in bounded memory. Lines are the unit of an import
 * (Google: one image per line, statuses[i] for line i), so the split is by line, not by
 * CSV record: a quote left open fails its own line instead of swallowing the rest of the
 * file. Each line is decoded on its own, so bad UTF-8 fails only that line too.
 */

export type RawLine = { index: number; text: string } | { index: number; error: string };

const NL = 0x0a;
const CR = 0x0d;
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Yields every line with its 0-based index; "\n" and "\r\n" end lines, and a final line
 * without a newline counts, but nothing after a final newline does. A line longer than
 * `maxLineBytes` is yielded as an error without being held (its bytes are skipped).
 */
export async function* readLines(bytes: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<RawLine> {
  let parts: Uint8Array[] = [];
  let size = 0;
  let tooLong = false;
  let index = 0;
  const finish = (): RawLine => {
    const line = tooLong ? { index, error: `Line ${index} is longer than ${maxLineBytes} bytes.` } : decode(index, parts, size);
    parts = [];
    size = 0;
    tooLong = false;
    index++;
    return line;
  };
  for await (const chunk of bytes) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!tooLong) {
        if (size + end - start > maxLineBytes) {
          tooLong = true;
          parts = [];
        } else if (end > start) {
          parts.push(chunk.subarray(start, end));
        }
      }
      size += end - start;
      if (nl < 0) break;
      yield finish();
      start = nl + 1;
    }
  }
  if (size > 0 || tooLong) yield finish();
}

function decode(index: number, parts: Uint8Array[], size: number): RawLine {
  let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
  if (bytes.length && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
  try {
    let text = decoder.decode(bytes);
    if (index === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark
    return { index, text };
  } catch {
    return { index, error: `Line ${index} is not valid UTF-8.` };
  }
}
