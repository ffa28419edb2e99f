import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error response has this shape: `{ "error": "what went wrong" }`. */
export interface ErrorBody {
  error: string;
}

/**
 * errorResponse answers with the app's one error shape and an explicit status.
 * `details` adds fields beside `error` (GET /readyz adds its `checks`); it
 * cannot replace `error`.
 */
export function errorResponse<Details extends object = {}>(
  c: Context,
  status: ContentfulStatusCode,
  message: string,
  details?: Details & { error?: never },
) {
  return c.json<ErrorBody & Details>({ error: message, ...details } as ErrorBody & Details, status);
}
