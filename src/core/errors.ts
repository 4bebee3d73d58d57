/**
 * The one error type of Metapixel. Domain code throws it only through the named
 * constructors below; the REST and gRPC adapters map its google.rpc code in one table
 * each (src/api/status-map.ts), so the two transports cannot disagree.
 */

/** google.rpc.Code. Duplicated here (not imported from grpc-js) so the core stays free of
 *  transport libraries; the numbers are fixed by google/rpc/code.proto. */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

export class MetapixelError extends Error {
  private constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = 'MetapixelError';
  }

  /** The google.rpc.Status form, as stored in operations and per-image errors. */
  toStatus(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }

  static of(code: Code, message: string): MetapixelError {
    return new MetapixelError(code, message);
  }
}

export const invalidArgument = (msg: string) => MetapixelError.of(Code.INVALID_ARGUMENT, msg);
export const notFound = (msg: string) => MetapixelError.of(Code.NOT_FOUND, msg);
export const alreadyExists = (msg: string) => MetapixelError.of(Code.ALREADY_EXISTS, msg);
export const permissionDenied = (msg: string) => MetapixelError.of(Code.PERMISSION_DENIED, msg);
export const unauthenticated = (msg: string) => MetapixelError.of(Code.UNAUTHENTICATED, msg);
export const failedPrecondition = (msg: string) => MetapixelError.of(Code.FAILED_PRECONDITION, msg);
export const resourceExhausted = (msg: string) => MetapixelError.of(Code.RESOURCE_EXHAUSTED, msg);
export const unimplemented = (msg: string) => MetapixelError.of(Code.UNIMPLEMENTED, msg);
export const unavailable = (msg: string) => MetapixelError.of(Code.UNAVAILABLE, msg);
export const deadlineExceeded = (msg: string) => MetapixelError.of(Code.DEADLINE_EXCEEDED, msg);
export const cancelled = (msg: string) => MetapixelError.of(Code.CANCELLED, msg);
export const aborted = (msg: string) => MetapixelError.of(Code.ABORTED, msg);
/** For failures whose detail must not reach the client; log the cause before calling. */
export const internal = (msg = 'Internal error.') => MetapixelError.of(Code.INTERNAL, msg);

export function isMetapixelError(e: unknown): e is MetapixelError {
  return e instanceof MetapixelError;
}
