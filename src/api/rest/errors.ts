/** Google's REST error body: {"error": {"code", "message", "status"}} with the HTTP status. */
import type { Response } from 'express';
import { Code, type MetapixelError } from '../../core/errors';
import { codeName, httpStatusOf } from '../status-map';

export function sendError(res: Response, err: MetapixelError): void {
  const status = httpStatusOf(err.code);
  // A quota or a full queue clears within seconds: say when to come back, as Google's front end does.
  if (err.code === Code.RESOURCE_EXHAUSTED) res.setHeader('retry-after', '1');
  res.status(status).json({ error: { code: status, message: err.message, status: codeName(err.code) } });
}
