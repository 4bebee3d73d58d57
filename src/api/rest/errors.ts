/** Google's REST error body: {"error": {"code", "message", "status"}} with the HTTP status. */
import type { Response } from 'express';
import type { MetapixelError } from '../../core/errors';
import { codeName, httpStatusOf } from '../status-map';

export function sendError(res: Response, err: MetapixelError): void {
  const status = httpStatusOf(err.code);
  res.status(status).json({ error: { code: status, message: err.message, status: codeName(err.code) } });
}
