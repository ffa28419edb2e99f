import type { Context, MiddlewareHandler } from 'hono';
import { isFromNodeServer } from './body-limit.ts';
import { errorResponse } from './errors.ts';

/** The methods that change something. GET and HEAD only read, and carry no body. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** isJson: `application/json`, with or without parameters such as `; charset=utf-8`. */
function isJson(contentType: string): boolean {
  const mediaType = contentType.split(';')[0] ?? '';
  return mediaType.trim().toLowerCase() === 'application/json';
}

/**
 * jsonOnly answers 415 to a request that changes something unless its body is
 * JSON. The routes read every body as JSON whatever its Content-Type says, so
 * without this an HTML form on any other site could place an order, or press
 * the admin page's buttons with the admin's saved login: a form can send
 * text/plain, urlencoded or multipart, but not application/json. A request
 * with no body needs no Content-Type (`curl -X POST`, the admin page's buttons).
 *
 * Mount it after limitBodySize: a body without a Content-Type is read to see
 * whether it is empty.
 */
export const jsonOnly: MiddlewareHandler = async (c, next) => {
  if (!UNSAFE_METHODS.has(c.req.method)) return next();

  const contentType = c.req.header('content-type');
  if (contentType) {
    return isJson(contentType) ? next() : errorResponse(c, 415, 'Content-Type must be application/json');
  }
  // No Content-Type: there must be no body. Reading one that is not there costs
  // the enqueue route a fetch Request and a stream on each call, so first ask
  // the headers. Otherwise look at the body itself, since not every body
  // announces itself with a Content-Length.
  if (hasNoBody(c)) return next();
  // limitBodySize ran first, so this reads at most MAX_BODY_BYTES, and Hono keeps what it read for the route.
  const body = await c.req.arrayBuffer();
  if (body.byteLength > 0) return errorResponse(c, 415, 'a request with a body needs Content-Type: application/json');
  return next();
};

/**
 * hasNoBody: the headers alone say there is no body, so it need not be read.
 * Node's HTTP server reads a body only by its Transfer-Encoding or its
 * Content-Length (RFC 9112, 6.3); a Request built in this process (tests'
 * app.request) may carry one all the same, so only Node's are trusted.
 */
function hasNoBody(c: Context): boolean {
  if (!isFromNodeServer(c.env) || c.req.header('transfer-encoding')) return false;
  const length = c.req.header('content-length');
  return length === undefined || length === '0';
}
