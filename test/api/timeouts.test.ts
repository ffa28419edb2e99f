import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTimeouts } from '../../src/api/http-timeouts.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { freshAppEnv } from '../support/app-env.ts';

// The real API process with short HTTP timeouts: a client that never finishes its
// headers, or promises a body it never sends, must be answered 408 or cut off
// soon after the limit, not hold its connection for Node's minutes-long defaults.

const HEADERS_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 2_500;
/** Well past the headers limit, well short of the request limit: the headers limit applies to headers. */
const HEADERS_CUT_OFF_WITHIN_MS = 2_000;
/** Well past the request limit, and far short of Node's default of 300 s. */
const REQUEST_CUT_OFF_WITHIN_MS = 8_000;

let port: number;

beforeAll(async () => {
  port = await freePort();
  const env = freshAppEnv('api-timeouts', {
    PORT: String(port),
    HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  const api = spawnScript('src/cmd/api.ts', env, 'api');
  await api.waitForOutput(/API listening/, 20_000);
});
afterAll(stopAll);

/**
 * sendAndStall writes `text` on a raw connection, then nothing more. It resolves
 * when the server closes the connection, with what the server sent, or with
 * closed: false once `withinMs` have passed and the connection is still open.
 */
function sendAndStall(text: string, withinMs: number): Promise<{ closed: boolean; received: string }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    const deadline = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received });
    }, withinMs);
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', (err) => {
      // A reset is also the server hanging up; anything else is the test's problem.
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    socket.on('close', () => {
      clearTimeout(deadline);
      resolve({ closed: true, received });
    });
  });
}

/** Nothing, or a 408: the two ways the server may end a request that ran out of time. */
const NOTHING_OR_408 = /^$|^HTTP\/1\.1 408 /;

describe('the API process', () => {
  it('still answers a request sent at once', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('cuts off a request whose headers never finish', async () => {
    const { closed, received } = await sendAndStall('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ', HEADERS_CUT_OFF_WITHIN_MS);
    expect(closed, `still open after ${HEADERS_CUT_OFF_WITHIN_MS} ms`).toBe(true);
    expect(received).toMatch(NOTHING_OR_408);
  });

  it('cuts off a request whose body never arrives in full', async () => {
    const head = 'POST /api/orders HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
    const { closed, received } = await sendAndStall(`${head}{"user_id"`, REQUEST_CUT_OFF_WITHIN_MS);
    expect(closed, `still open after ${REQUEST_CUT_OFF_WITHIN_MS} ms`).toBe(true);
    expect(received).toMatch(NOTHING_OR_408);
  });
});

describe('httpTimeouts', () => {
  it('default to 10 s for headers and 30 s for the whole request', () => {
    expect(httpTimeouts({})).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  });

  it('refuse headers that may take longer than the whole request', () => {
    expect(() => httpTimeouts({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS \(5000\) must not be longer than HTTP_REQUEST_TIMEOUT_MS/);
    expect(() => httpTimeouts({ HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS must be a whole number/);
  });
});
