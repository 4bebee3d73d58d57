/**
 * The REST adapter: one catch-all handler that matches the request against the routes
 * derived from the protos, validates the JSON with ajv, converts it to the internal
 * message form, runs the call and writes proto3 JSON or Google's error body.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import Ajv, { type ValidateFunction } from 'ajv';
import type protobuf from 'protobufjs';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Credentials } from '../../core/auth';
import { internal, invalidArgument, isMetapixelError, notFound, MetapixelError, Code } from '../../core/errors';
import type { CallRunner } from '../call';
import { fromJson, toJson } from '../proto/json-codec';
import { schemaFor } from '../proto/json-schema';
import { matchRoute, type Route } from './http-rules';
import { sendError } from './errors';
import { browserGuard, type BrowserGuardOptions } from './browser-guard';
import { requestJson, systemParams } from './transcode';

export interface RestOptions {
  routes: Route[];
  runner: CallRunner;
  /** Largest accepted request body, in bytes (Google: 10 MB of JSON). */
  maxBodyBytes: number;
  /** Extra routers mounted before the API (health, metrics). */
  extra?: express.Router[];
  /** Origin and Host rules for requests from web pages (browser-guard.ts). */
  browser?: BrowserGuardOptions;
  log: Logger;
}

export function createRestApp(opts: RestOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(browserGuard(opts.browser ?? { corsOrigins: [], allowedHosts: [] }));
  for (const r of opts.extra ?? []) app.use(r);
  app.use(express.raw({ type: () => true, limit: opts.maxBodyBytes }));
  const validators = new Validators();
  app.all(/.*/, (req, res) => void handle(req, res, opts, validators));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(res, bodyError(err, opts.maxBodyBytes)));
  return app;
}

async function handle(req: Request, res: Response, opts: RestOptions, validators: Validators): Promise<void> {
  const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
  res.setHeader('x-request-id', requestId);
  const url = new URL(req.originalUrl, 'http://local');
  const query = url.searchParams;
  const sys = systemParams(query);
  try {
    const found = matchRoute(opts.routes, req.method.toLowerCase(), url.pathname);
    if (!found) throw notFound(`No API method at ${req.method} ${url.pathname}.`);
    const { route, values } = found;
    const body = parseBody(req.body as Buffer | undefined, route, headerValue(req, 'content-type'));
    const json = requestJson(route, values, query, body);
    validators.check(route.requestType, json);
    const request = fromJson(route.requestType, json);
    const creds = requestCredentials(req, sys.apiKey);
    const result = await opts.runner.run(route.method, 'rest', request, creds, requestId, callSignal(req, res));
    res.status(200).json(toJson(route.responseType, result, { enumsAsInt: sys.enumsAsInt }));
  } catch (e) {
    if (!isMetapixelError(e)) opts.log.error({ err: e, requestId, path: url.pathname }, 'REST adapter failure');
    sendError(res, isMetapixelError(e) ? e : internal(`Internal error (request id ${requestId}).`));
  }
}

function parseBody(raw: Buffer | undefined, route: Route, contentType: string | undefined): unknown {
  if (!route.body || !raw || raw.length === 0) return undefined;
  // Only JSON, as Google's JSON front end: a text/plain or form body is what a web page can
  // send cross-site without a CORS preflight, so it must never be read as a request.
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw invalidArgument(
      `Invalid JSON payload received. Content-Type "${mediaType.slice(0, 100) || '(none)'}" is not supported; send the body as application/json.`,
    );
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw invalidArgument(`Invalid JSON payload received. ${(e as Error).message}`);
  }
}

/** The API key (header, or the `key` query parameter) and bearer token of a request. */
export function requestCredentials(req: Request, keyParam: string | undefined): Credentials {
  return { apiKey: headerValue(req, 'x-goog-api-key') ?? keyParam, bearerToken: bearer(req) };
}

/**
 * Aborted when the client closes the connection before the answer, or when its
 * `X-Server-Timeout` (seconds, Google's REST deadline header) passes.
 */
export function callSignal(req: Request, res: Response): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort(MetapixelError.of(Code.CANCELLED, 'The client closed the connection.'));
  });
  const timeout = Number(headerValue(req, 'x-server-timeout'));
  if (Number.isFinite(timeout) && timeout > 0) {
    const timer = setTimeout(
      () => ac.abort(MetapixelError.of(Code.DEADLINE_EXCEEDED, 'Deadline expired before the operation could complete.')),
      timeout * 1000,
    );
    res.on('close', () => clearTimeout(timer));
  }
  return ac.signal;
}

function headerValue(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(headerValue(req, 'authorization') ?? '');
  return m ? m[1].trim() : undefined;
}

export function bodyError(err: unknown, limit: number): MetapixelError {
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') return invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`);
  if (type === 'request.aborted') return MetapixelError.of(Code.CANCELLED, 'The request was aborted by the client.');
  return invalidArgument('Could not read the request body.');
}

/** ajv validators compiled once per request type from the proto-derived schemas. */
class Validators {
  private readonly ajv = new Ajv({ allErrors: false, strict: false });
  private readonly cache = new Map<string, ValidateFunction>();

  check(type: protobuf.Type, json: unknown): void {
    let v = this.cache.get(type.fullName);
    if (!v) {
      v = this.ajv.compile(schemaFor(type));
      this.cache.set(type.fullName, v);
    }
    if (v(json)) return;
    const e = v.errors?.[0];
    const at = (e?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const detail =
      e?.keyword === 'additionalProperties'
        ? `Unknown name "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : // The only patterns in the schemas are numbers written as strings; the rule, not the regex.
          e?.keyword === 'pattern'
          ? 'must be a number'
          : (e?.message ?? 'invalid');
    throw invalidArgument(`Invalid JSON payload received. Invalid value at '${at}': ${detail}.`);
  }
}
