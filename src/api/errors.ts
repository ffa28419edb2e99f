import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error response has this shape: `{ "error": "what went wrong" }`. */
export interface ErrorBody {
  error: string;
}

/**
 * MAX_ERROR_MESSAGE_CHARS: a longer error message is cut to this many
 * characters. Messages quote what the client sent ("unknown product '…'"), and
 * a client can send megabytes.
 */
export const MAX_ERROR_MESSAGE_CHARS = 300;

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
  const error = cut(message, MAX_ERROR_MESSAGE_CHARS);
  return c.json<ErrorBody & Details>({ error, ...details } as ErrorBody & Details, status);
}

/** cut shortens `text` to at most `max` characters, ending in "…" when it cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = text.slice(0, max - 1);
  // An emoji is two UTF-16 units: do not keep the first half of one.
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept}…`;
}
