/**
 * The web console (docs/console.md): static files built by `npm run build` into
 * dist/console, served at `/` and `/console/`. It is a page like any other client: it
 * calls the public REST API, so nothing here reads the store. On by default only where
 * the REST port is bound to loopback (METAPIXEL_CONSOLE=auto), since a page served to a
 * network is an operator's decision.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import ipaddr from 'ipaddr.js';
import type { Config } from '../../config/config';
import { failedPrecondition } from '../../core/errors';
import { sendError } from './errors';

/** dist/console, from src/api/rest (ts-jest, tsx) and from dist/api/rest alike. */
export const CONSOLE_DIR = path.resolve(__dirname, '..', '..', '..', 'dist', 'console');

export function consoleEnabled(config: Pick<Config, 'console' | 'host'>): boolean {
  if (config.console !== 'auto') return config.console === 'on';
  const host = config.host.replace(/^\[|\]$/g, '');
  if (host.toLowerCase() === 'localhost') return true;
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

// The page loads only its own code and talks only to its own origin; images may come
// from the URL a user typed as a query (the server fetches it too).
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: http: https:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

/** The page's settings from the server's config, as <meta> tags of index.html (no endpoint). */
export interface ConsoleSettings {
  /** METAPIXEL_CONSOLE_STAGING: the gs:// folder offered for uploaded photos. */
  staging: string;
}

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function consoleRouter(dir: string = CONSOLE_DIR, settings: ConsoleSettings = { staging: '' }): express.Router {
  const r = express.Router();
  const headers = (res: express.Response) => {
    res.setHeader('content-security-policy', CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
  };
  const built = () => existsSync(path.join(dir, 'index.html'));
  const index = (_req: express.Request, res: express.Response) => {
    if (!built()) return sendError(res, failedPrecondition('The console is not built: run `npm run build` (it writes dist/console).'));
    headers(res);
    res.setHeader('cache-control', 'no-cache');
    const meta = `<meta name="metapixel-staging" content="${escapeAttribute(settings.staging)}" />`;
    res
      .type('html')
      .send(
        readFileSync(path.join(dir, 'index.html'), 'utf8').replace('<meta charset="utf-8" />', `<meta charset="utf-8" />\n    ${meta}`),
      );
  };
  r.get('/', index);
  // Routing is not strict: '/console' also matches '/console/', so the slash is checked here.
  r.get('/console', (req, res) => (req.originalUrl.split('?')[0].endsWith('/') ? index(req, res) : res.redirect(301, '/console/')));
  r.use('/console', express.static(dir, { index: false, fallthrough: true, setHeaders: headers, maxAge: 0 }));
  return r;
}
