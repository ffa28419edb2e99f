import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/api/body-limit.ts';
import { errorResponse, MAX_ERROR_MESSAGE_CHARS, type ErrorBody } from '../../src/api/errors.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

// What the API does with input it should not take: bodies that are too big,
// bodies that are not JSON, and values too long to quote back.

const ADMIN_PASSWORD = 'input-Test-pw-1';
const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('api-input'), adminPassword: ADMIN_PASSWORD });
beforeAll(() => waitUntil('the producer connection', () => bed.redis.status === 'ready'));
afterAll(() => bed.close());

const MiB = 1024 * 1024;
const order = JSON.stringify({ user_id: 1, sku: 'mug', quantity: 1 });
/** The login a browser would have cached for the admin page, and send along with a cross-site form. */
const adminLogin = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` };

function countOrders(): number {
  return (bed.db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n;
}

/**
 * A body of `size` bytes, made 64 KiB at a time only when the server reads it.
 * `bytesRead()` says how much the server has taken so far.
 */
function lazyBody(size: number) {
  const chunk = new Uint8Array(64 * 1024).fill('x'.charCodeAt(0));
  let sent = 0;
  // highWaterMark 0: nothing is made before someone reads.
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= size) return controller.close();
        const next = chunk.subarray(0, Math.min(chunk.length, size - sent));
        sent += next.length;
        controller.enqueue(next);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, bytesRead: () => sent };
}

function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: BodyInit }) {
  // duplex: 'half' is what fetch asks of a request whose body is a stream.
  return bed.app.request(path, { method: 'POST', ...init, duplex: 'half' } as RequestInit);
}

describe('a body larger than MAX_BODY_BYTES', () => {
  it('is refused with 413 from its Content-Length, before any of it is read', async () => {
    const body = lazyBody(50 * MiB);
    const res = await send('/api/orders', {
      headers: { 'content-type': 'application/json', 'content-length': String(50 * MiB) },
      body: body.stream,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/body is larger than/) });
    expect(body.bytesRead()).toBe(0);
  });

  it('is cut with 413 once a body without Content-Length (chunked) passes the limit', async () => {
    const body = lazyBody(50 * MiB);
    const res = await send('/api/orders', { headers: { 'content-type': 'application/json' }, body: body.stream });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/body is larger than/) });
    expect(body.bytesRead()).toBeLessThanOrEqual(MAX_BODY_BYTES + 64 * 1024);
  });

  it('is refused on every route, the admin page included', async () => {
    for (const path of ['/api/dev/send-birthday/1', '/admin/system/jobs/api/queues/default/retry/failed', '/nope']) {
      const res = await send(path, {
        method: path.startsWith('/admin') ? 'PUT' : 'POST',
        headers: { ...adminLogin, 'content-type': 'application/json', 'content-length': String(MAX_BODY_BYTES + 1) },
        body: lazyBody(MAX_BODY_BYTES + 1).stream,
      });
      expect(res.status, path).toBe(413);
    }
  });

  it('is the only size refused: a body of exactly MAX_BODY_BYTES is read', async () => {
    const padded = order.slice(0, -1) + ' '.repeat(MAX_BODY_BYTES - order.length) + '}';
    expect(padded.length).toBe(MAX_BODY_BYTES);
    const res = await send('/api/orders', { headers: { 'content-type': 'application/json' }, body: padded });
    expect(res.status).toBe(201);
  });
});

describe('error messages', () => {
  /** What errorResponse answers for `message`, from an app with one route. */
  async function errorFor(message: string) {
    const app = new Hono().get('/', (c) => errorResponse(c, 400, message));
    return ((await (await app.request('/')).json()) as ErrorBody).error;
  }

  it(`are cut to ${MAX_ERROR_MESSAGE_CHARS} characters, ending in "…"`, async () => {
    const error = await errorFor(`unknown product '${'x'.repeat(50 * MiB)}'`);
    expect(error).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
    expect(error).toMatch(/^unknown product 'xxx+…$/);
    expect(await errorFor('short')).toBe('short');
  });

  it('are cut between characters, never inside an emoji (two UTF-16 units)', async () => {
    // Both parities: the cut falls between two emoji for one, in the middle of one for the other.
    for (const message of ['😀'.repeat(1_000), 'a' + '😀'.repeat(1_000)]) {
      expect(await errorFor(message)).toMatch(/😀…$/u);
    }
  });

  it('from a route that quotes what was sent are cut too', async () => {
    const { status, body } = await bed.post(`/api/orders/${'9'.repeat(5_000)}x/invoice`);
    expect(status).toBe(400);
    expect(body.error.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
  });
});

describe('a request that changes something (POST, PUT, PATCH, DELETE)', () => {
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-patch+json'])(
    'with Content-Type %s is refused with 415, and nothing is created',
    async (type) => {
      const before = countOrders();
      const res = await send('/api/orders', { headers: { 'content-type': type }, body: order });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({ error: 'Content-Type must be application/json' });
      expect(countOrders()).toBe(before);
    },
  );

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8'])('with Content-Type %s is taken', async (type) => {
    const res = await send('/api/orders', { headers: { 'content-type': type }, body: order });
    expect(res.status).toBe(201);
  });

  it('with a body but no Content-Type is refused with 415', async () => {
    const bytes = new TextEncoder().encode(order); // unlike a string, bytes get no Content-Type of their own
    const before = countOrders();
    const withAndWithoutLength: Record<string, string>[] = [{ 'content-length': String(bytes.length) }, {}];
    for (const headers of withAndWithoutLength) {
      const res = await send('/api/orders', { headers, body: bytes });
      expect(res.status).toBe(415);
      expect(await res.json()).toEqual({ error: 'a request with a body needs Content-Type: application/json' });
    }
    expect(countOrders()).toBe(before);
  });

  it('without a body and without a Content-Type is taken (curl -X POST, the admin page buttons)', async () => {
    expect((await send('/api/dev/send-birthday/1', {})).status).toBe(202);
    expect((await send('/api/dev/send-birthday/1', { headers: { 'content-length': '0' } })).status).toBe(202);
  });

  it.each(['PUT', 'PATCH', 'DELETE'])('%s with a form body is refused with 415 too, on any path, even with the admin login', async (method) => {
    const res = await send('/admin/system/jobs/api/queues/default/pause', {
      method,
      headers: { ...adminLogin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(res.status).toBe(415);
    expect(await bed.jobs.queue('default').isPaused()).toBe(false);
  });

  it("keeps the admin page's buttons working: they send no body and no Content-Type", async () => {
    const res = await send('/admin/system/jobs/api/queues/default/retry/failed', { method: 'PUT', headers: adminLogin });
    expect(res.status).toBe(200);
  });

  it('GET is left alone', async () => {
    const res = await bed.app.request('/healthz', { headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
  });
});
