import { Hono } from 'hono';
import type { UserRepo } from '../../db/users.ts';
import type { JobsClient } from '../../jobs/client.ts';
import { isUnavailable } from '../../jobs/unavailable.ts';
import { errorResponse } from '../errors.ts';

/**
 * devRoutes are for trying things by hand. createApp mounts them only outside
 * production. POST /api/dev/send-birthday/:user_id enqueues the lesson's
 * "Try it" task and answers 202 with the job id.
 */
export function devRoutes(users: UserRepo, jobs: JobsClient) {
  return new Hono().post('/send-birthday/:user_id', async (c) => {
    const param = c.req.param('user_id');
    const userId = Number(param);
    if (!/^\d+$/.test(param) || !Number.isSafeInteger(userId) || userId < 1) {
      return errorResponse(c, 400, `user_id must be a positive whole number, got "${param}"`);
    }
    if (!users.findById(userId)) return errorResponse(c, 404, `user ${userId} not found`);

    try {
      const job = await jobs.enqueue('send_birthday_email', { user_id: userId });
      return c.json({ job_id: job.id, queue: job.queue }, 202);
    } catch (err) {
      // Any other error is a bug: app.onError answers 500 and logs it.
      if (!isUnavailable(err)) throw err;
      // The producer connection fails fast when Redis is down, so this answers at once.
      return errorResponse(c, 503, `could not enqueue the job: ${(err as Error).message}`);
    }
  });
}
