import { serve } from '@hono/node-server';
import { wireApi } from '../src/api/wiring.ts';
import { freePort } from '../src/dev/free-port.ts';
import { median } from './median.ts';
import { silent } from './silent.ts';

/** Median latency in ms of each route over `requests` sequential HTTP requests, measured in one run. */
export async function routeLatencies(redisUrl: string, prefix: string, requests: number) {
  const config = { env: 'development', admin: { user: 'admin', password: undefined }, databasePath: ':memory:', redisUrl, queuePrefix: prefix } as const;
  const api = wireApi(config, silent);
  await new Promise((resolve) => api.redis.once('ready', resolve));
  const { app } = api;
  const port = await freePort();
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;

  const timeOf = async (send: () => Promise<Response>) => {
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const at = performance.now();
      const res = await send();
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`benchmark request failed: ${res.status}`);
      samples.push(performance.now() - at);
    }
    return median(samples);
  };
  const json = { 'content-type': 'application/json' };
  const order = JSON.stringify({ user_id: 1, sku: 'sticker', quantity: 1 });

  // Interleaved warm-up, then each route in turn.
  await timeOf(() => fetch(`${base}/healthz`));
  const empty = await timeOf(() => fetch(`${base}/healthz`));
  const enqueue = await timeOf(() => fetch(`${base}/api/dev/send-birthday/1`, { method: 'POST' }));
  const createOrder = await timeOf(() => fetch(`${base}/api/orders`, { method: 'POST', headers: json, body: order }));

  await new Promise<void>((resolve) => server.close(() => resolve()));
  await api.close();
  return { empty, enqueue, createOrder };
}
