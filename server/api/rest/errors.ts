// How an error becomes the REST API's status code: the adapter's own HttpError keeps its status,
// the engine's errors map by kind (the engine knows nothing of HTTP), anything else is a 500.
import { errorKind, type ErrorKind } from '../../engine/index.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
  'not-implemented': 501,
  internal: 500,
};

export function httpStatusOf(e: unknown): number {
  return e instanceof HttpError ? e.status : STATUS_OF_KIND[errorKind(e)];
}
