// How an error becomes the REST API's status code: the adapter's own HttpError keeps its status,
// the engine's errors map by kind (the engine knows nothing of HTTP), anything else is a 500.
import { statusOfKind } from '../http-status.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** more of the answer's fields, beside its `error` */
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function httpStatusOf(e: unknown): number {
  return e instanceof HttpError ? e.status : statusOfKind(e);
}
