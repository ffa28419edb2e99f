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
    // 🐨 TODO(3): Answer the request:
    //    - 400 when user_id is not a positive whole number (abc, 0, 1.5);
    //    - 404 when there is no user with that id (users.findById);
    //    - otherwise enqueue send_birthday_email with { user_id } and answer
    //      202 with { job_id, queue };
    //    - 503 when the enqueue fails because Redis is down. It fails at once
    //      (see src/jobs/connection.ts), so the request never hangs. Any other
    //      error is a bug: let it go, and app.onError answers 500.
    // 💰 isUnavailable(err), imported above, tells "Redis is down" from a bug.
    // 💰 POST /api/orders/:id/invoice in src/api/routes/orders.ts does the same
    //    for an order: copy its shape. Errors go through errorResponse(c, status, message).
    // 💰 jobs.enqueue(task, payload) resolves to { id, queue }.
    return errorResponse(c, 501, 'TODO(3) is not done yet: POST /api/dev/send-birthday/:user_id enqueues nothing');
  });
}
