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
  // Exercise 10 builds the payload of send_birthday_email.
  send_birthday_email: z.object({}),
  // 🐨 TODO(1): Define the payload of the new task generate_invoice:
  //    { order_id }, the id of the order to bill, a positive whole number.
  //    The placeholder z.object({}) lets any object through and drops every
  //    key it does not name, so the handler would get {}.
  // 💰 send_receipt, above, takes an order id too.
  generate_invoice: z.object({}),
};

export type TaskName = keyof typeof taskSchemas;
export type Payload<T extends TaskName> = z.infer<(typeof taskSchemas)[T]>;

export const TASK_NAMES = Object.keys(taskSchemas) as TaskName[];

export function isTaskName(name: string): name is TaskName {
  return Object.hasOwn(taskSchemas, name);
}

/** CheckedPayload is a payload that fits its task's schema, or the reason it does not. */
export type CheckedPayload<T extends TaskName> = { ok: true; data: Payload<T> } | { ok: false; reason: string };

/**
 * checkPayload checks a payload against its task's schema. The reason reads
 * like "bad payload for send_welcome: to: Invalid email address". Each caller
 * picks the error to throw: the client refuses to enqueue, the worker kills
 * the job.
 */
export function checkPayload<T extends TaskName>(task: T, payload: unknown): CheckedPayload<T> {
  if (!isTaskName(task)) return { ok: false, reason: `unknown task "${task}"` };
  const checked = taskSchemas[task].safeParse(payload);
  if (checked.success) return { ok: true, data: checked.data as Payload<T> };
  return { ok: false, reason: `bad payload for ${task}: ${formatIssues(checked.error.issues)}` };
}

/** formatIssues turns zod's issues into one readable line: "to: Invalid email address". */
export function formatIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}
