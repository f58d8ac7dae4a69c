// The engine's error kinds as HTTP status codes, the same for the Docker API and the dashboard's
// REST (the engine itself knows nothing of HTTP). Docker's daemon answers with these codes too.
import { errorKind, type ErrorKind } from '../engine/index.js';

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  'permission-denied': 403,
  unavailable: 503,
  'not-implemented': 501,
  internal: 500,
};

/** The status an engine error answers with (500 for an error of no kind). */
export function statusOfKind(e: unknown): number {
  return STATUS_OF_KIND[errorKind(e)];
}
