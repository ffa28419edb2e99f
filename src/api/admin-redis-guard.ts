import type { MiddlewareHandler } from 'hono';
import type { Cluster, Redis } from 'ioredis';
import { errorResponse } from './errors.ts';

const UNAVAILABLE = 'Redis cannot be reached, so the jobs admin page cannot read the queues; it shows them again once Redis is back';

/**
 * adminNeedsRedis guards the admin page's JSON API (bull-board's) while Redis
 * is down. Without it, a request waits for a connection that may never come,
 * or fails with ioredis's "Stream isn't writeable" as a 500. With it, the
 * answer is a 503 in the app's error shape, at once.
 */
export function adminNeedsRedis(redis: Pick<Redis | Cluster, 'status'>): MiddlewareHandler {
  return async (c, next) => {
    if (redis.status !== 'ready') return errorResponse(c, 503, `${UNAVAILABLE} (connection: ${redis.status})`);
    await next();
    // Redis went away while bull-board was reading it.
    if (c.res.status >= 500 && redis.status !== 'ready') {
      c.res = undefined; // replace the response, rather than add to its headers
      c.res = errorResponse(c, 503, `${UNAVAILABLE} (connection: ${redis.status})`);
    }
  };
}
