import { connect } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

// Requests without a Content-Type over real HTTP, through Node's server: the
// API decides from the headers when there is no body, and must still find the
// bodies that come without a Content-Type, sent with a length or in chunks.

const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('api-bodies-http') });
let server: ServerType;
let port: number;
beforeAll(async () => {
  await waitUntil('the producer connection', () => bed.redis.status === 'ready');
  port = await freePort();
  server = serve({ fetch: bed.app.fetch, port, hostname: '127.0.0.1' });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await bed.close();
});

/** send writes `head` (the request line and headers, without the blank line) and `body`, and returns the status. */
function send(head: string, body = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(`${head}\r\nHost: x\r\nConnection: close\r\n\r\n${body}`));
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1])));
  });
}

const order = JSON.stringify({ user_id: 1, sku: 'mug', quantity: 1 });

describe('a POST without a Content-Type, over HTTP', () => {
  it('is taken when it has no body: no length, or a length of 0', async () => {
    expect(await send('POST /api/dev/send-birthday/1 HTTP/1.1')).toBe(202);
    expect(await send('POST /api/dev/send-birthday/1 HTTP/1.1\r\nContent-Length: 0')).toBe(202);
  });

  it('is refused with 415 when it has a body, given with its length', async () => {
    expect(await send(`POST /api/orders HTTP/1.1\r\nContent-Length: ${order.length}`, order)).toBe(415);
  });

  it('is refused with 415 when it has a body sent in chunks, with no length', async () => {
    const chunked = `${order.length.toString(16)}\r\n${order}\r\n0\r\n\r\n`;
    expect(await send('POST /api/orders HTTP/1.1\r\nTransfer-Encoding: chunked', chunked)).toBe(415);
  });

  it('is refused with 415 when its body is a single byte', async () => {
    expect(await send('POST /api/dev/send-birthday/1 HTTP/1.1\r\nContent-Length: 1', 'x')).toBe(415);
  });
});
