import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { wireApi } from '../../src/api/wiring.ts';
import { OrderRepo } from '../../src/db/orders.ts';
import { captureLog } from '../support/course/log.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { waitUntil } from '../support/wait.ts';

const capture = captureLog();
const api = wireApi(
  { env: 'test', admin: { user: 'admin', password: undefined }, databasePath: ':memory:', redisUrl: services().redisUrl, queuePrefix: uniquePrefix('api-invoice-errors') },
  capture.logger,
);
beforeAll(() => waitUntil('the producer connection', () => api.redis.status === 'ready'));
afterEach(() => vi.restoreAllMocks());
afterAll(() => api.close());

/** The routes that enqueue straight to Redis: 503 is for Redis being away, and a bug is a 500. */
const ENQUEUE_ROUTES = {
  'POST /api/orders/:id/invoice': () => `/api/orders/${new OrderRepo(api.db).insert({ userId: 1, sku: 'mug', quantity: 1 }).id}/invoice`,
  'POST /api/dev/send-birthday/:user_id': () => '/api/dev/send-birthday/1',
};

describe.each(Object.entries(ENQUEUE_ROUTES))('%s, when enqueueing fails with a bug', (_route, pathOf) => {
  it('answers 500 with a request id, logs the error under the same id, and keeps its details out of the answer', async () => {
    let bug: TypeError | undefined;
    vi.spyOn(api.jobs, 'enqueue').mockImplementation(async () => {
      try {
        // A real programming error: reading a field of what is not there.
        return (undefined as unknown as { job: never }).job;
      } catch (err) {
        bug = err as TypeError;
        throw err;
      }
    });
    const res = await api.app.request(pathOf(), { method: 'POST' });
    const text = await res.text();

    expect(res.status).toBe(500);
    expect(bug).toBeInstanceOf(TypeError);
    const body = JSON.parse(text) as { error: string; request_id: string };
    expect(body).toEqual({ error: 'internal error', request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(text).not.toContain(bug!.message);
    expect(text).not.toContain('TypeError');

    const lines = capture.lines().map((line) => JSON.parse(line) as { level: number; request_id?: string; err?: { type: string; message: string; stack: string } });
    const logged = lines.filter((line) => line.request_id === body.request_id);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, err: { type: 'TypeError', message: bug!.message } });
    expect(logged[0]!.err!.stack).toContain('TypeError');
  });
});
