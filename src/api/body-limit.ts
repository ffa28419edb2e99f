import { bodyLimit } from 'hono/body-limit';
import { errorResponse } from './errors.ts';

/**
 * MAX_BODY_BYTES is the largest request body the API reads: 64 KiB. An order
 * is under 100 bytes of JSON, and the admin page sends small JSON (a job's
 * new data at most). Without a limit, a 50 MB body is read whole, and a few of
 * them at once take gigabytes of memory.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * limitBodySize answers 413 to a body larger than MAX_BODY_BYTES. A request
 * that gives its Content-Length is refused before any of its body is read; a
 * chunked body (no Content-Length) is read only until it passes the limit.
 */
export const limitBodySize = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => errorResponse(c, 413, `body is larger than ${MAX_BODY_BYTES} bytes`),
});
