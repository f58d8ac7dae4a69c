// Errors of the Docker API adapter, and how any error becomes an HTTP status + Docker's {"message"}.
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

/** The engine's InvalidArgument/NotFound/Conflict carry .status (400/404/409); anything else is a 500. */
export function toHttpError(e: unknown): { status: number; message: string } {
  const err = e as { status?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' && err.message ? err.message : String(e);
  const status = typeof err?.status === 'number' && [304, 400, 404, 409, 500, 501].includes(err.status) ? err.status : 500;
  return { status, message };
}
