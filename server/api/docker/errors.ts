// Errors of the Docker API adapter, and how any error becomes an HTTP status + Docker's {"message"}.
import { errorKind } from '../../engine/index.js';
import { statusOfKind } from '../http-status.js';

/** An error of this adapter's own, with the HTTP status it answers. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A Docker option Glassbox does not implement: refused, never ignored. */
export function unsupported(option: string, detail?: string): ApiError {
  return new ApiError(400, `glassbox: ${option} is not supported${detail ? ` (${detail})` : ''}`);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}

/** The adapter's ApiError keeps its status; the engine's errors map by kind; anything else is a 500. */
export function toHttpError(e: unknown): { status: number; message: string } {
  const err = e as { message?: unknown };
  const message = typeof err?.message === 'string' && err.message ? err.message : String(e);
  return { status: e instanceof ApiError ? e.status : statusOfKind(e), message };
}

/** The kind of an engine error (or 'internal'), for adapters that branch on it. */
export { errorKind };
