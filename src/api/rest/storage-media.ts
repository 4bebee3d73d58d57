/**
 * The part of Cloud Storage's JSON API the console needs, at the server's own origin (a
 * page may not call another): an object's bytes, `GET /storage/v1/b/B/o/O?alt=media`, and
 * a single-request upload, `POST /upload/storage/v1/b/B/o?uploadType=media&name=O` with
 * the image as the body. Served with the console only. Each request is a call like any
 * other (its key checked, logged, counted) over StagingMedia; errors are Google's body.
 */
import express, { type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { StagedObject, StagingMedia } from '../../catalog/staging-media';
import { invalidArgument, isMetapixelError } from '../../core/errors';
import type { CallRunner } from '../call';
import { bodyError, callSignal, requestCredentials } from './app';
import { sendError } from './errors';

const OBJECT_PATH = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/;
const UPLOAD_PATH = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/;

export function storageMediaRouter(runner: CallRunner, media: StagingMedia, maxBytes: number): express.Router {
  const r = express.Router();
  r.get(OBJECT_PATH, (req, res) =>
    serve(req, res, runner, 'storage.objects.get', async (url, signal) => {
      if (url.searchParams.get('alt') !== 'media') throw invalidArgument("Only alt=media is served: the object's bytes.");
      const [bucket, object] = pathNames(url, OBJECT_PATH);
      const { bytes, contentType } = await media.download(bucket, object, signal);
      return () => {
        res.setHeader('content-type', contentType);
        res.setHeader('cache-control', 'private, no-cache');
        res.setHeader('x-content-type-options', 'nosniff');
        res.setHeader('content-security-policy', "default-src 'none'; sandbox");
        // No page of another site may even show it (an <img> sends no Origin to check).
        res.setHeader('cross-origin-resource-policy', 'same-origin');
        res.status(200).end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      };
    }),
  );
  // Only image media types are read as a body: a page elsewhere cannot send one without
  // asking first (CORS), unlike a form's types, so no cross-site post gets this far.
  r.post(
    UPLOAD_PATH,
    express.raw({ type: (req) => /^image\//i.test(String(req.headers['content-type'] ?? '')), limit: maxBytes }),
    (req, res) =>
      serve(req, res, runner, 'storage.objects.insert', async (url, signal) => {
        if (url.searchParams.get('uploadType') !== 'media')
          throw invalidArgument('Only uploadType=media is served: the image as the whole body.');
        if (!Buffer.isBuffer(req.body)) throw invalidArgument('Send the image as the body, with its image/* Content-Type.');
        const [bucket] = pathNames(url, UPLOAD_PATH);
        const stored: StagedObject = await media.upload(bucket, url.searchParams.get('name') ?? '', req.body, signal);
        return () => res.status(200).json(stored);
      }),
  );
  r.use(UPLOAD_PATH, (err: unknown, _req: Request, res: Response, _next: express.NextFunction) => sendError(res, bodyError(err, maxBytes)));
  return r;
}

/** The bucket and object of a path, each percent-decoded once (an object's '/' is sent as %2F). */
function pathNames(url: URL, pattern: RegExp): string[] {
  const m = pattern.exec(url.pathname)!;
  try {
    return m.slice(1).map(decodeURIComponent);
  } catch {
    throw invalidArgument('Bad percent-encoding in the object path.');
  }
}

async function serve(
  req: Request,
  res: Response,
  runner: CallRunner,
  method: string,
  handle: (url: URL, signal: AbortSignal) => Promise<() => void>,
): Promise<void> {
  const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
  res.setHeader('x-request-id', requestId);
  const url = new URL(req.originalUrl, 'http://local');
  const signal = callSignal(req, res);
  try {
    const send = (await runner.runHandler(
      method,
      () => handle(url, signal),
      'rest',
      undefined,
      requestCredentials(req, url.searchParams.get('key') ?? undefined),
      requestId,
      signal,
    )) as () => void;
    send();
  } catch (e) {
    sendError(res, isMetapixelError(e) ? e : invalidArgument('Bad request.'));
  }
}
