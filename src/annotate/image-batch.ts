/**
 * The rules every per-image batch call shares (images:annotate, images:asyncBatchAnnotate,
 * images:encode): the request-level checks that fail the whole call, as Google's do, and
 * the mapping of one image's failure to its own `error` so that it never fails its
 * neighbours.
 */
import type { Logger } from 'pino';
import type { CallContext } from '../core/context';
import { internal, invalidArgument, isMetapixelError } from '../core/errors';
import { names } from '../core/names';
import type { StatusMsg } from '../core/messages';

/** Checks the optional parent's project and the image count; returns the requests. */
export function checkImageBatch<T>(req: { requests?: T[] | null; parent?: string }, ctx: CallContext, maxImages: number): T[] {
  if (req.parent) ctx.principal.assertProject(names.parseProjectScope(req.parent, 'parent').project);
  const requests = req.requests ?? [];
  if (requests.length === 0) throw invalidArgument('No image requests: set requests[].');
  if (requests.length > maxImages) {
    throw invalidArgument(`Too many images: ${requests.length} in one request; the limit is ${maxImages}.`);
  }
  return requests;
}

/** One image's failure as its `error`; an unexpected throw is logged and stays opaque. */
export function imageErrorStatus(e: unknown, log: Logger): StatusMsg {
  if (isMetapixelError(e)) return e.toStatus();
  log.error({ err: e }, 'image processing failed');
  return internal('Internal error while processing this image.').toStatus();
}
