/**
 * Opaque page tokens for keyset pagination. A token carries the last id returned and a
 * fingerprint of the listing it belongs to, so it stays correct while items are added or
 * removed between pages, and a token from another listing is INVALID_ARGUMENT.
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../core/errors';

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

const fingerprint = (listing: string) => createHash('sha256').update(listing).digest('base64url').slice(0, 12);

export function encodePageToken(listing: string, lastId: string): string {
  return Buffer.from(JSON.stringify({ v: 1, l: fingerprint(listing), k: lastId })).toString('base64url');
}

/** Returns the id to continue after, or undefined for the first page. */
export function decodePageToken(listing: string, token: string | undefined): string | undefined {
  if (!token) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const t = parsed as { v?: unknown; l?: unknown; k?: unknown } | undefined;
  if (!t || t.v !== 1 || typeof t.k !== 'string' || t.l !== fingerprint(listing)) {
    throw invalidArgument('Invalid page token.');
  }
  return t.k;
}

/** Google's page_size rule: 0 means the default; below 0 or above 100 is an error. */
export function checkPageSize(pageSize: number | undefined): number {
  const n = pageSize ?? 0;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw invalidArgument(`Invalid page_size ${n}: must be between 1 and ${MAX_PAGE_SIZE} (0 means ${DEFAULT_PAGE_SIZE}).`);
  }
  return n === 0 ? DEFAULT_PAGE_SIZE : n;
}

/**
 * Runs one keyset page: asks the store for one item more than the page to learn whether a
 * next page exists without a count query.
 */
export async function paginate<T extends { id: string }>(
  listing: string,
  pageSize: number | undefined,
  pageToken: string | undefined,
  fetch: (after: string | undefined, limit: number) => Promise<T[]>,
): Promise<{ items: T[]; nextPageToken: string }> {
  const size = checkPageSize(pageSize);
  const after = decodePageToken(listing, pageToken);
  const rows = await fetch(after, size + 1);
  const items = rows.slice(0, size);
  const nextPageToken = rows.length > size ? encodePageToken(listing, items[items.length - 1].id) : '';
  return { items, nextPageToken };
}
