/**
 * GET /$discovery/rest?version=v1 and GET /discovery/v1/apis/vision/v1/rest: the discovery
 * document, public as Google's is (no key), its rootUrl the address the client used.
 */
import express from 'express';
import type protobuf from 'protobufjs';
import { internal, notFound } from '../../core/errors';
import type { Route } from './http-rules';
import { buildDiscoveryDoc, withRoot } from './discovery-doc';
import { sendError } from './errors';

export function discoveryRouter(root: protobuf.Root, routes: Route[], versions: string[]): express.Router {
  // Built on first request (about 0.1 s), not at start-up; test/api/discovery.test.ts builds v1.
  const docs = new Map<string, Record<string, unknown>>();
  const r = express.Router();
  const serve = (version: string, req: express.Request, res: express.Response) => {
    if (!versions.includes(version))
      return sendError(
        res,
        notFound(`Discovery document not found for API service: vision.googleapis.com, version ${version.slice(0, 40)}.`),
      );
    try {
      if (!docs.has(version)) docs.set(version, buildDiscoveryDoc(root, routes, version));
    } catch (e) {
      return sendError(res, internal(`The discovery document for ${version} could not be generated: ${(e as Error).message}`));
    }
    res.json(withRoot(docs.get(version)!, rootUrlOf(req)));
  };
  r.get('/discovery/v1/apis/:api/:version/rest', (req, res, next) => {
    if (req.params.api !== 'vision') return next();
    serve(req.params.version, req, res);
  });
  r.get(/^\/\$discovery\/rest$/, (req, res) => {
    const v = req.query.version;
    serve(typeof v === 'string' && v ? v : 'v1', req, res);
  });
  return r;
}

/** The scheme a TLS-terminating proxy saw, else this connection's; the Host the client sent. */
function rootUrlOf(req: express.Request): string {
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    .trim();
  const scheme = forwarded === 'https' || forwarded === 'http' ? forwarded : req.protocol;
  return `${scheme}://${req.headers.host ?? 'localhost'}/`;
}
