import { Hono } from 'hono';

/** health answers GET /healthz with 200 while the API process is up. */
export const health = new Hono().get('/', (c) => c.json({ status: 'ok' }));
