import { Hono } from 'hono';
import { z } from 'zod';
import { EmailTakenError } from '../../db/users.ts';
import { formatIssues } from '../../jobs/tasks.ts';
import { isUnavailable } from '../../jobs/unavailable.ts';
import type { UserService } from '../../services/users.ts';
import { errorResponse } from '../errors.ts';

/** MAX_EMAIL_CHARS: the longest address SMTP carries (RFC 5321's 256-octet path, less its angle brackets). */
export const MAX_EMAIL_CHARS = 254;

/** MAX_NAME_CHARS: room for any real name, and a bound on what an email subject quotes. */
export const MAX_NAME_CHARS = 100;

/** LATEST_UTC_OFFSET_MS: UTC+14, where a day starts first. A birthday may be today there. */
const LATEST_UTC_OFFSET_MS = 14 * 60 * 60 * 1_000;

/**
 * What a name must not hold: control characters (C0, DEL, C1), the Unicode
 * line and paragraph separators, and lone surrogates (half an emoji, which
 * SQLite would store as U+FFFD). The name goes into an email's subject line.
 */
const UNPRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;

const SignUpBody = z.object({
  // Trimmed, then lowercased as a whole, so that "Ada@Example.TEST " and
  // "ada@example.test" are one account to the UNIQUE constraint. RFC 5321 lets
  // a server treat the part before the @ as case-sensitive, but in practice
  // none does, and two accounts that differ only in case are a support ticket.
  // z.email() takes ASCII only, so lowercasing changes nothing but letters.
  email: z.string().trim().toLowerCase().max(MAX_EMAIL_CHARS).pipe(z.email()),
  name: z
    .string()
    .trim()
    .min(1)
    .max(MAX_NAME_CHARS)
    .refine((name) => !UNPRINTABLE.test(name), 'must not contain control characters or line breaks'),
  birthday: z.iso
    .date({ error: 'must be a real date, as YYYY-MM-DD' })
    .refine((day) => day <= latestToday(), 'must not be in the future')
    .nullish(),
});

/** latestToday is today's date, 'YYYY-MM-DD', where it is latest on Earth. */
function latestToday(): string {
  return new Date(Date.now() + LATEST_UTC_OFFSET_MS).toISOString().slice(0, 10);
}

/**
 * userRoutes: POST /api/users signs a customer up with `{ email, name }` and
 * an optional `birthday`, and answers 201 with the user. The welcome email
 * (send_welcome) goes through the outbox, in the user's transaction. It
 * answers 400 for a body that is not JSON; 422 for JSON whose fields do not
 * fit, naming each; 409 when the email (trimmed and lowercased) is taken; 503
 * while the database is busy. Unknown fields are ignored, as POST /api/orders
 * does.
 */
export function userRoutes(users: UserService) {
  return new Hono().post('/', async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return errorResponse(c, 400, 'body must be JSON');
    const parsed = SignUpBody.safeParse(body);
    if (!parsed.success) return errorResponse(c, 422, formatIssues(parsed.error.issues));

    try {
      const { email, name, birthday } = parsed.data;
      const user = users.signUp({ email, name, birthday: birthday ?? null });
      return c.json({ user }, 201);
    } catch (err) {
      if (err instanceof EmailTakenError) return errorResponse(c, 409, err.message);
      // Any other error is a bug: app.onError answers 500 and logs it.
      if (!isUnavailable(err)) throw err;
      return errorResponse(c, 503, `could not sign up now, try again: ${(err as Error).message}`);
    }
  });
}
