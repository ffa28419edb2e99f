import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

// Property-based tests: whatever a client sends, the API answers 2xx, or 4xx
// with { "error": "..." }. Never a 5xx, never a hang.
//
// Each run picks a new seed and prints it. To replay a failure, pass the seed
// and path that fast-check printed with it:
//   FUZZ_SEED=1234 FUZZ_PATH="5:1:0" npx vitest run test/api/fuzz.test.ts
// FUZZ_RUNS=5000 runs each property more often (default 300).

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const options: fc.Parameters<unknown> = {
  seed,
  path: process.env.FUZZ_PATH,
  numRuns: Number(process.env.FUZZ_RUNS ?? 300),
  // An answer that takes this long is a hang.
  plugins: [fc.timeout(5_000)],
};
console.log(`api fuzz: seed ${seed}, ${options.numRuns} runs per property (replay with FUZZ_SEED=${seed})`);

const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('api-fuzz') });
beforeAll(() => waitUntil('the producer connection', () => bed.redis.status === 'ready'));
afterAll(() => bed.close());

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
/** undefined: no Content-Type header at all. */
const contentType = fc.constantFrom(undefined, ...JSON_TYPES, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp');

/** A value for one field of an order: anything JSON can say, and edge cases of numbers. */
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }),
  fc.constantFrom(0, -0, -1, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
  fc.string({ unit: 'grapheme', maxLength: 2_000 }),
);

/** Request bodies, as text. */
const body = fc.oneof(
  // Any JSON document, and any text at all.
  fc.json({ stringUnit: 'grapheme' }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  // The right keys, with anything in them.
  fc.record({ user_id: fieldValue, sku: fieldValue, quantity: fieldValue }, { requiredKeys: [] }).map((order) => JSON.stringify(order)),
  // Numbers JSON.parse turns into Infinity or rounds, and duplicate keys (the last one wins).
  fc
    .tuple(fc.constantFrom('user_id', 'quantity'), fc.stringMatching(/^-?\d{1,400}(\.\d{1,40})?([eE][+-]?\d{1,5})?$/))
    .map(([key, number]) => `{"user_id":1,"sku":"mug","quantity":1,"${key}":${number}}`),
  // Deep nesting, up to a little past what fits under the body limit.
  fc
    .tuple(fc.integer({ min: 1, max: 12_000 }), fc.constantFrom(['[', ']'], ['{"a":', '}']))
    .map(([depth, [open, close]]) => `{"user_id":1,"quantity":1,"sku":${open.repeat(depth)}1${close.repeat(depth)}}`),
  // Keys that pollute Object.prototype when code copies them carelessly.
  fc
    .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 }), fc.boolean())
    .map(([key, value, withOrder]) => `{${withOrder ? '"user_id":1,"sku":"mug","quantity":1,' : ''}"${key}":${JSON.stringify(value)}}`),
  fc.constant('{"__proto__":{"user_id":1,"sku":"mug","quantity":1}}'),
);

/** A body: text (sent as UTF-8 bytes), bytes that are not even UTF-8, or none at all. */
const notUtf8 = fc.uint8Array({ maxLength: 300 }).map((bytes) => new Uint8Array(bytes));
const anyBody = fc.option(fc.oneof(body, notUtf8), { nil: undefined });

/** A path segment for an id: anything (encoded), raw text with stray % signs, big numbers, and a few known traps. */
const idSegment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  fc.stringMatching(/^[0-9a-z%.~_-]{0,12}$/),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.nat({ max: 20 }).map(String),
  fc.constantFrom('1', '01', '1e3', '0x1', '1.0', '9007199254740993', '%00', '%2e%2e', '%2F', '%', '%E0%A4%A'),
);

/** Bytes, not a string: a string body would get a Content-Type of its own (text/plain). */
function toBytes(body: string | Uint8Array<ArrayBuffer> | undefined): Uint8Array<ArrayBuffer> | undefined {
  return typeof body === 'string' ? new TextEncoder().encode(body) : body;
}

async function send(path: string, type: string | undefined, body: string | Uint8Array<ArrayBuffer> | undefined) {
  const res = await bed.app.request(path, {
    method: 'POST',
    headers: type === undefined ? {} : { 'content-type': type },
    body: toBytes(body),
  });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** An answer is a 2xx, or a 4xx in the app's one error shape. */
function expectWellFormed(res: { status: number; type: string | null; text: string }) {
  expect(res.status, res.text).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.type).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual({ error: expect.any(String) });
  }
}

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype);

describe('whatever a client sends, the API answers 2xx or a 4xx with { error }, never 5xx', () => {
  it('POST /api/orders', async () => {
    await fc.assert(
      fc.asyncProperty(contentType, anyBody, async (type, body) => {
        const res = await send('/api/orders', type, body);
        expectWellFormed(res);
        // And a body that is not said to be JSON is never taken: 415, or 413 when it is too big anyway.
        const saysJson = type !== undefined && JSON_TYPES.includes(type);
        if (!saysJson && (type !== undefined || body?.length)) expect([413, 415]).toContain(res.status);
        expect(Object.getOwnPropertyNames(Object.prototype)).toEqual(prototypeKeys);
      }),
      options,
    );
  });

  it('POST /api/orders/:id/invoice', async () => {
    await fc.assert(
      fc.asyncProperty(idSegment, contentType, anyBody, async (id, type, body) => {
        expectWellFormed(await send(`/api/orders/${id}/invoice`, type, body));
      }),
      options,
    );
  });

  it('POST /api/dev/send-birthday/:id', async () => {
    await fc.assert(
      fc.asyncProperty(idSegment, contentType, anyBody, async (id, type, body) => {
        expectWellFormed(await send(`/api/dev/send-birthday/${id}`, type, body));
      }),
      options,
    );
  });
});
