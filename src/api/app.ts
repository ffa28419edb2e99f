import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Config } from '../config.ts';
import type { UserRepo } from '../db/users.ts';
import type { JobsClient } from '../jobs/client.ts';
import type { Logger } from '../logger.ts';
import type { InvoiceService } from '../services/invoices.ts';
import type { OrderService } from '../services/orders.ts';
import type { UserService } from '../services/users.ts';
import { httpTracing } from '../telemetry.ts';
import { limitBodySize } from './body-limit.ts';
import { errorResponse } from './errors.ts';
import { jsonOnly } from './json-only.ts';
import { ADMIN_JOBS_PATH, adminRoutes } from './routes/admin.ts';
import { devRoutes } from './routes/dev.ts';
import { health } from './routes/health.ts';
import { orderRoutes } from './routes/orders.ts';
import { readyRoutes, type ReadyDeps } from './routes/ready.ts';
import { userRoutes } from './routes/users.ts';
import { routerApart } from './router.ts';

/** AppDeps are what the routes need. cmd/api.ts builds the real ones; tests build their own. */
export interface AppDeps {
  config: Pick<Config, 'env' | 'admin'>;
  jobs: JobsClient;
  users: UserRepo;
  /** Sign-up, POST /api/users: on in every environment, production included. */
  userService: UserService;
  orders: OrderService;
  invoices: InvoiceService;
  log: Logger;
  /** What GET /readyz checks: the Redis connection and the database. */
  ready: ReadyDeps;
}

/**
 * createApp builds the Hono app from one sub-app per resource. It opens no
 * port: cmd/api.ts serves it, and tests call app.request().
 */
export function createApp(deps: AppDeps) {
  // The admin page's routes on a router of their own, so that they do not slow the others.
  const app = new Hono({ router: routerApart(ADMIN_JOBS_PATH) });
  // With tracing on, each request is a server span: the root of the trace its jobs join.
  const tracing = httpTracing();
  if (tracing) app.use(tracing);
  // On every route, before any route reads the body: first its size, then its type.
  app.use(limitBodySize);
  app.use(jsonOnly);
  app.route('/healthz', health);
  app.route('/readyz', readyRoutes(deps.ready));
  app.route('/api/users', userRoutes(deps.userService));
  app.route('/api/orders', orderRoutes(deps.orders, deps.invoices));
  app.route(ADMIN_JOBS_PATH, adminRoutes(deps.jobs, deps.config.admin, deps.ready.redis));
  if (deps.config.env !== 'production') {
    app.route('/api/dev', devRoutes(deps.users, deps.jobs));
  }

  app.notFound((c) => errorResponse(c, 404, 'not found'));
  app.onError((err, c) => {
    // An exception that carries its own response (basic auth's 401 with its
    // WWW-Authenticate header, which makes a browser ask for the login) keeps it.
    if (err instanceof HTTPException) return err.res ? err.getResponse() : errorResponse(c, err.status, err.message);
    // The answer tells nothing of the error; its request id finds the log line that does.
    const requestId = randomUUID();
    deps.log.error({ err, path: c.req.path, request_id: requestId }, 'request failed');
    return errorResponse(c, 500, 'internal error', { request_id: requestId });
  });
  return app;
}
