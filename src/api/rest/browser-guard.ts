/**
 * What keeps a web page from using the REST port on a user's behalf. A browser attaches
 * `Origin` to every cross-origin request and to same-origin ones other than GET/HEAD;
 * Google's clients, gcloud and curl never do. So a request that carries an Origin comes
 * from a page: it is served only when that origin is in METAPIXEL_CORS_ORIGINS (which also
 * turns on the CORS answers for it) or, with the console on, is the server's own origin
 * reached by a name that cannot be rebound (an IP literal, `localhost`, or one of
 * METAPIXEL_ALLOWED_HOSTS); else it is refused with PERMISSION_DENIED before anything runs. METAPIXEL_ALLOWED_HOSTS, when set, limits
 * the Host header to the names the server is reached by (IP literals always pass), which
 * is what defeats DNS rebinding. JSON bodies must say so (app.ts), so an HTML form or a
 * `no-cors` text/plain POST cannot carry a request either.
 */
import type { NextFunction, Request, Response } from 'express';
import ipaddr from 'ipaddr.js';
import { permissionDenied } from '../../core/errors';
import { sendError } from './errors';

export interface BrowserGuardOptions {
  /** Exact origins (`https://app.example.com`) allowed to call from a browser; '*' = any. */
  corsOrigins: string[];
  /** Host names the server answers to; empty = any. IP literals always pass. */
  allowedHosts: string[];
  /** The console is served: its own page's requests (Origin = this Host) pass. */
  sameOrigin?: boolean;
}

const ALLOW_HEADERS =
  'authorization, content-type, x-goog-api-key, x-goog-api-client, x-goog-request-params, x-goog-user-project, x-server-timeout, x-request-id';
const ALLOW_METHODS = 'GET, POST, PATCH, DELETE';

export function browserGuard(opts: BrowserGuardOptions) {
  const origins = new Set(opts.corsOrigins.map((o) => o.replace(/\/$/, '').toLowerCase()));
  const hosts = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));
  return (req: Request, res: Response, next: NextFunction): void => {
    if (hosts.size > 0) {
      const host = hostName(req.headers.host ?? '');
      if (!ipaddr.isValid(host) && !hosts.has(host)) {
        return sendError(res, permissionDenied(`Host "${host.slice(0, 100)}" is not served here (METAPIXEL_ALLOWED_HOSTS).`));
      }
    }
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    if (opts.sameOrigin && isOwnOrigin(origin, req.headers.host ?? '', hosts)) return next();
    const allowed = origins.has('*') || origins.has(origin.toLowerCase());
    if (!allowed) {
      return sendError(
        res,
        permissionDenied(`Requests from the web origin ${origin.slice(0, 100)} are not allowed (METAPIXEL_CORS_ORIGINS).`),
      );
    }
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', 'x-request-id');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.setHeader('access-control-allow-methods', ALLOW_METHODS);
      res.setHeader('access-control-allow-headers', ALLOW_HEADERS);
      res.setHeader('access-control-max-age', '3600');
      res.status(204).end();
      return;
    }
    next();
  };
}

function hostName(hostHeader: string): string {
  const h = hostHeader.toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * `origin` is this server as the browser reached it. The Host must be a name no other site
 * can point at this server (DNS rebinding makes Origin and Host agree for an attacker's
 * name): an IP literal, `localhost`, or a listed allowed host.
 */
function isOwnOrigin(origin: string, hostHeader: string, allowedHosts: Set<string>): boolean {
  const host = hostName(hostHeader);
  if (!ipaddr.isValid(host) && host !== 'localhost' && !allowedHosts.has(host)) return false;
  const o = origin.toLowerCase();
  return o === `http://${hostHeader.toLowerCase()}` || o === `https://${hostHeader.toLowerCase()}`;
}
