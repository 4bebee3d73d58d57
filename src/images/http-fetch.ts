/**
 * Fetches an image over http(s) for `imageUri`, defending the server: every resolved
 * address is checked before connecting (no loopback, private, link-local, CGNAT or other
 * non-public targets unless allow-listed, so DNS rebinding cannot slip past), redirects are
 * followed by hand and re-checked, and time and size are capped.
 */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { deadlineExceeded, invalidArgument, MetapixelError, notFound, Code } from '../core/errors';

export interface HttpFetchLimits {
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  /** Hosts or CIDR ranges that may be fetched even though they are not public. */
  allowList: string[];
}

/** ipaddr.js ranges that are safe to fetch from the open internet. */
const PUBLIC_RANGES = new Set(['unicast']);

export class HttpImageFetcher {
  private readonly allowedCidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  private readonly allowedHosts: Set<string>;

  constructor(private readonly limits: HttpFetchLimits) {
    this.allowedCidrs = [];
    this.allowedHosts = new Set();
    for (const entry of limits.allowList) {
      if (entry.includes('/')) this.allowedCidrs.push(ipaddr.parseCIDR(entry));
      else if (ipaddr.isValid(entry)) this.allowedCidrs.push([ipaddr.parse(entry), ipaddr.parse(entry).kind() === 'ipv4' ? 32 : 128]);
      else this.allowedHosts.add(entry.toLowerCase());
    }
  }

  async fetch(uri: string, signal?: AbortSignal): Promise<Buffer> {
    const deadline = Date.now() + this.limits.timeoutMs;
    let url = this.parse(uri);
    for (let hop = 0; ; hop++) {
      const res = await this.get(url, deadline, signal);
      if (res.redirect) {
        if (hop >= this.limits.maxRedirects)
          throw invalidArgument(`Too many redirects fetching ${uri} (limit ${this.limits.maxRedirects}).`);
        url = this.parse(new URL(res.redirect, url).toString());
        continue;
      }
      return res.body!;
    }
  }

  private parse(uri: string): URL {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw invalidArgument(`Invalid image URI "${uri.slice(0, 200)}".`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`Unsupported image URI scheme "${url.protocol}".`);
    return url;
  }

  /** The address check runs inside the socket's DNS lookup, on the address actually used. */
  private lookupFor(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err, '', 0);
        const list = addresses;
        const bad = list.find((a) => !this.allowed(host, a.address));
        if (bad)
          return callback(Object.assign(new Error(`refused non-public address ${bad.address}`), { code: 'EREFUSED_PRIVATE' }), '', 0);
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
        callback(null, list[0].address, list[0].family);
      });
    };
  }

  private allowed(host: string, address: string): boolean {
    if (this.allowedHosts.has(host.toLowerCase())) return true;
    let ip = ipaddr.parse(address);
    if (ip.kind() === 'ipv6') {
      const v6 = ip as ipaddr.IPv6;
      // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d, which
      // the URL parser writes as ::7f00:1) forms are judged as the IPv4 address they hold.
      const compatible = v6.parts.slice(0, 6).every((p) => p === 0) && (v6.parts[6] !== 0 || v6.parts[7] > 1);
      if (v6.isIPv4MappedAddress() || compatible) {
        const [a, b] = [v6.parts[6], v6.parts[7]];
        ip = new ipaddr.IPv4([a >> 8, a & 0xff, b >> 8, b & 0xff]);
      }
    }
    if (this.allowedCidrs.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits))) return true;
    return PUBLIC_RANGES.has(ip.range());
  }

  private get(url: URL, deadline: number, signal?: AbortSignal): Promise<{ redirect?: string; body?: Buffer }> {
    const client = url.protocol === 'https:' ? https : http;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return reject(deadlineExceeded(`Timed out fetching ${url.origin}.`));
      // Sockets skip the lookup hook for literal addresses, so check those here.
      if (ipaddr.isValid(host) && !this.allowed(host, host)) {
        return reject(networkError(Object.assign(new Error(`refused non-public address ${host}`), { code: 'EREFUSED_PRIVATE' })));
      }
      const req = client.get(
        url,
        { lookup: this.lookupFor(host), signal, headers: { accept: 'image/*', 'user-agent': 'metapixel' } },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 300 && status < 400 && res.headers.location) {
            res.resume();
            return resolve({ redirect: res.headers.location });
          }
          if (status === 404 || status === 410) {
            res.resume();
            return reject(notFound(`The image URL answered HTTP ${status}.`));
          }
          if (status !== 200) {
            res.resume();
            return reject(invalidArgument(`The image URL answered HTTP ${status}.`));
          }
          const type = String(res.headers['content-type'] ?? '');
          if (type && !/^(image\/|application\/octet-stream|binary\/octet-stream)/i.test(type)) {
            res.resume();
            return reject(invalidArgument(`The image URL served "${type.slice(0, 60)}", not an image.`));
          }
          const declared = Number(res.headers['content-length'] ?? 0);
          if (declared > this.limits.maxBytes) {
            res.destroy();
            return reject(invalidArgument(`The image is ${declared} bytes; the limit is ${this.limits.maxBytes}.`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > this.limits.maxBytes) {
              res.destroy();
              reject(invalidArgument(`The image is larger than the limit of ${this.limits.maxBytes} bytes.`));
            } else chunks.push(c);
          });
          res.on('end', () => resolve({ body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(networkError(e)));
          res.on('close', () => {
            if (!res.complete)
              reject(networkError(Object.assign(new Error('connection closed before the whole image arrived'), { code: 'ECONNRESET' })));
          });
        },
      );
      // A deadline for the whole exchange, body included (not an idle timeout, which a
      // server sending a byte now and then would never trip).
      const timer = setTimeout(
        () => req.destroy(deadlineExceeded(`Timed out fetching ${url.origin} after ${this.limits.timeoutMs} ms.`)),
        remaining,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', (e) => reject(networkError(e)));
    });
  }
}

function networkError(e: Error): MetapixelError {
  if (e instanceof MetapixelError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'EREFUSED_PRIVATE') {
    return invalidArgument(
      `The image URL resolves to a non-public address; fetching it is not allowed (${e.message.replace('refused non-public address ', '')}).`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return invalidArgument('The image URL host could not be resolved.');
  if (e.name === 'AbortError') return MetapixelError.of(Code.CANCELLED, 'The image fetch was cancelled.');
  return MetapixelError.of(Code.UNAVAILABLE, `Could not fetch the image URL: ${code ?? e.message}.`);
}
