import { z } from 'zod';

/**
 * The tasks, by name, each with the schema of its payload. The client checks a
 * payload against it before enqueueing, and the worker checks it again before
 * running the handler: a payload that does not fit fails at once, without retries.
 */
export const taskSchemas = {
  send_welcome: z.object({ to: z.email(), name: z.string().min(1) }),
  resize_image: z.object({
    upload: z.string().min(1),
    width: z.number().int().positive().max(4_000),
  }),
  cleanup_uploads: z.object({ olderThanHours: z.number().positive().optional() }),
  send_receipt: z.object({ order_id: z.number().int().positive() }),
  update_inventory: z.object({ order_id: z.number().int().positive() }),
  ask_for_review: z.object({ order_id: z.number().int().positive() }),
  nightly_digest: z.object({}),
  send_birthday_email: z.object({ user_id: z.number().int().positive() }),
};

export type TaskName = keyof typeof taskSchemas;
export type Payload<T extends TaskName> = z.infer<(typeof taskSchemas)[T]>;

export const TASK_NAMES = Object.keys(taskSchemas) as TaskName[];

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(taskSchemas, name);
}
