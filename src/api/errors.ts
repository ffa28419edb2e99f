import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error response has this shape: `{ "error": "what went wrong" }`. */
export interface ErrorBody {
  error: string;
}

/** errorResponse answers with the app's one error shape and an explicit status. */
export function errorResponse(c: Context, status: ContentfulStatusCode, message: string) {
  return c.json<ErrorBody>({ error: message }, status);
}
