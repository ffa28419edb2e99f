import type { Config } from '../../src/config.ts';
import { wireApi } from '../../src/api/wiring.ts';
import { quietLogger } from './jobs.ts';

/**
 * apiTestbed wires the API the way cmd/api.ts does, on an in-memory database
 * and the given Redis, without opening a port: call app.request().
 */
export function apiTestbed(opts: { redisUrl: string; prefix: string; env?: Config['env']; relayRetryMs?: number; adminPassword?: string }) {
  const config = {
    env: opts.env ?? 'test',
    admin: { user: 'admin', password: opts.adminPassword },
    databasePath: ':memory:',
    redisUrl: opts.redisUrl,
    queuePrefix: opts.prefix,
  } as const;
  const parts = wireApi(config, quietLogger, { relayRetryMs: opts.relayRetryMs ?? 100 });
  const { app } = parts;

  return {
    ...parts,
    /** post sends a JSON body (or a raw string) and returns status and parsed body. */
    async post(path: string, body?: unknown) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    },
  };
}
