/**
 * How long the API's HTTP server waits for a client. A client that sends its
 * request slowly, or promises a body it never sends, holds a connection (and a
 * socket) all the while; Node's own limits let it do so for 60 s of headers and
 * 300 s of request. Our requests are small JSON bodies sent at once.
 */
export const DEFAULT_HTTP_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 30_000;

export interface HttpTimeouts {
  /** HTTP_HEADERS_TIMEOUT_MS: a request's headers must all arrive within this. */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS: a whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
}

/** httpTimeouts reads HTTP_HEADERS_TIMEOUT_MS and HTTP_REQUEST_TIMEOUT_MS; tests shrink them. */
export function httpTimeouts(env: NodeJS.ProcessEnv = process.env): HttpTimeouts {
  const headersTimeoutMs = milliseconds('HTTP_HEADERS_TIMEOUT_MS', env.HTTP_HEADERS_TIMEOUT_MS, DEFAULT_HTTP_HEADERS_TIMEOUT_MS);
  const requestTimeoutMs = milliseconds('HTTP_REQUEST_TIMEOUT_MS', env.HTTP_REQUEST_TIMEOUT_MS, DEFAULT_HTTP_REQUEST_TIMEOUT_MS);
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new Error(`HTTP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must not be longer than HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  return { headersTimeoutMs, requestTimeoutMs };
}

function milliseconds(name: string, value: string | undefined, fallback: number): number {
  if (!value) return fallback;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) throw new Error(`${name} must be a whole number of 1 or more, got "${value}"`);
  return ms;
}
