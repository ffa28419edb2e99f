import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { errorResponse } from './errors.ts';

/**
 * MAX_BODY_BYTES is the largest request body the API reads: 64 KiB. An order
 * is under 100 bytes of JSON, and the admin page sends small JSON (a job's
 * new data at most). Without a limit, a 50 MB body is read whole, and a few of
 * them at once take gigabytes of memory.
 */
export const MAX_BODY_BYTES = 64 * 1024;

const tooLarge = (c: Context) => errorResponse(c, 413, `body is larger than ${MAX_BODY_BYTES} bytes`);

/** Hono's limit, which reads a body that gives no length only until it passes the limit. */
const limitStreamedBody = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });

/**
 * limitBodySize answers 413 to a body larger than MAX_BODY_BYTES. A request
 * that gives its Content-Length is refused before any of its body is read; a
 * chunked body (no Content-Length) is read only until it passes the limit.
 *
 * It decides from the headers when it can. Hono's bodyLimit looks at
 * `c.req.raw.body` first, and on @hono/node-server that builds a whole fetch
 * Request (with its stream and AbortSignal) for every request, where reading the
 * body straight from Node's request costs a fraction of that.
 */
export const limitBodySize: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
  if (!c.req.header('transfer-encoding')) {
    const length = c.req.header('content-length');
    if (length !== undefined) return Number.parseInt(length, 10) > MAX_BODY_BYTES ? tooLarge(c) : next();
    // From Node's HTTP server, a request with neither header has no body (RFC 9112, 6.3).
    // A Request built in this process (tests' app.request) may have one all the same.
    if (isFromNodeServer(c.env)) return next();
  }
  return limitStreamedBody(c, next);
};

/** isFromNodeServer: @hono/node-server hands each request's Node objects to the app as its env. */
export function isFromNodeServer(env: unknown): boolean {
  return typeof env === 'object' && env !== null && 'incoming' in env;
}
