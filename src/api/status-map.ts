/**
 * The one google.rpc.Code -> HTTP table (as in google/rpc/code.proto and gax's status.ts).
 * The gRPC adapter sends the code itself; REST sends this status with Google's error body.
 */
import { Code } from '../core/errors';

export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.OK:
      return 200;
    case Code.CANCELLED:
      return 499;
    case Code.UNKNOWN:
      return 500;
    case Code.INVALID_ARGUMENT:
      return 400;
    case Code.DEADLINE_EXCEEDED:
      return 504;
    case Code.NOT_FOUND:
      return 404;
    case Code.ALREADY_EXISTS:
      return 409;
    case Code.PERMISSION_DENIED:
      return 403;
    case Code.RESOURCE_EXHAUSTED:
      return 429;
    case Code.FAILED_PRECONDITION:
      return 400;
    case Code.ABORTED:
      return 409;
    case Code.OUT_OF_RANGE:
      return 400;
    case Code.UNIMPLEMENTED:
      return 501;
    case Code.INTERNAL:
      return 500;
    case Code.UNAVAILABLE:
      return 503;
    case Code.DATA_LOSS:
      return 500;
    case Code.UNAUTHENTICATED:
      return 401;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

export const codeName = (code: Code): string => Code[code] ?? 'UNKNOWN';
