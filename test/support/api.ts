import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Config } from '../../src/config.ts';
import { wireApi } from '../../src/api/wiring.ts';

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
  const log = serverErrorLog();
  const parts = wireApi(config, log.logger, { relayRetryMs: opts.relayRetryMs ?? 100 });
  const { app } = parts;

  return {
    ...parts,
    /**
     * post sends a JSON body (or a raw string) and returns status and parsed
     * body. For a 500 it also returns `thrown`: the error behind it, which
     * the answer hides and the app logs, as thrown, with its stack.
     */
    async post(path: string, body?: unknown) {
      const res = await app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const parsed = (await res.json()) as Record<string, any>;
      const thrown = res.status === 500 ? log.thrownFor(parsed.request_id) : undefined;
      return { status: res.status, body: parsed, thrown };
    },
  };
}

/**
 * serverErrorLog is a logger that prints nothing (TEST_LOGS=true prints its
 * lines) and keeps each error the app logs with a request id: the cause of
 * that request's 500. It keeps the Error itself, so that a check can show
 * where it was thrown.
 */
function serverErrorLog(): { logger: Logger; thrownFor(requestId: unknown): Error | undefined } {
  const byRequest = new Map<string, Error>();
  const shown = process.env.TEST_LOGS === 'true';
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const logger = pino(
    {
      // Errors at least: pino calls no hook for a level it does not log.
      level: shown ? 'info' : 'error',
      hooks: {
        logMethod(args, method) {
          const fields = args[0] as { err?: unknown; request_id?: unknown } | undefined;
          if (fields && typeof fields.request_id === 'string' && fields.err instanceof Error) byRequest.set(fields.request_id, fields.err);
          return method.apply(this, args);
        },
      },
    },
    shown ? pino.destination(1) : discard,
  );
  return { logger, thrownFor: (requestId) => (typeof requestId === 'string' ? byRequest.get(requestId) : undefined) };
}
