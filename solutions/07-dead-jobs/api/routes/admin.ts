import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../../config.ts';
import type { JobsClient } from '../../jobs/client.ts';
import { QUEUES } from '../../jobs/defaults.ts';
import { adminHeaders } from '../admin-headers.ts';
import { adminNeedsRedis } from '../admin-redis-guard.ts';
import { errorResponse } from '../errors.ts';

/** ADMIN_JOBS_PATH is where the jobs dashboard lives, as in the lesson. */
export const ADMIN_JOBS_PATH = '/admin/system/jobs';

/**
 * adminRoutes serve the jobs dashboard (bull-board): depth per queue and
 * state, recent runs with their duration, dead jobs with payload, error and
 * stack, and a button to re-queue them. It sits behind HTTP basic auth with
 * ADMIN_USER / ADMIN_PASSWORD. With no ADMIN_PASSWORD set, it stays locked.
 * Nothing caches it and no other site can frame it (adminHeaders). While
 * `redis` is down its JSON API answers 503 (adminNeedsRedis).
 */
export function adminRoutes(jobs: JobsClient, admin: Config['admin'], redis: Pick<Redis | Cluster, 'status'>) {
  const board = new HonoAdapter(serveStatic).setBasePath(ADMIN_JOBS_PATH);
  createBullBoard({
    queues: QUEUES.map((queue) => new BullMQAdapter(jobs.queue(queue))),
    serverAdapter: board,
    // showMetrics: the throughput chart on each queue's page, from the worker's metrics.
    options: { uiConfig: { boardTitle: 'Jobs', showMetrics: true } },
  });

  const app = new Hono();
  app.use('*', adminHeaders);
  app.use('*', async (c, next) => {
    if (!admin.password) {
      return errorResponse(c, 401, 'the admin page is locked: set ADMIN_PASSWORD (and optionally ADMIN_USER) to open it');
    }
    const invalidUserMessage = { error: 'log in with ADMIN_USER and ADMIN_PASSWORD' };
    return basicAuth({ username: admin.user, password: admin.password, realm: 'jobs admin', invalidUserMessage })(c, next);
  });
  app.use('/api/*', adminNeedsRedis(redis));
  app.route('/', board.registerPlugin());
  return app;
}
