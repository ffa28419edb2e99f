// Exercise 08's README gives numbers from the app: the retries of an invoice,
// the worker's default slots, and the pools that more slots press on. These
// tests hold each number to the constant it comes from.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUSY_TIMEOUT_MS } from '../../src/db/database.ts';
import { DEFAULT_CONCURRENCY } from '../../src/jobs/defaults.ts';
import { SMTP_MAX_CONNECTIONS } from '../../src/mail/mailer.ts';
import { INVOICE_MAX_RETRY } from '../../src/services/invoices.ts';

const README = readFileSync(new URL('../../exercises/08-modify-the-battery/README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');

describe("exercise 08's README, on the app's numbers", () => {
  it('an invoice gets INVOICE_MAX_RETRY retries, so one attempt more', () => {
    expect(README).toContain(`\`maxRetry: INVOICE_MAX_RETRY\`, which is ${INVOICE_MAX_RETRY}. So the job has ${INVOICE_MAX_RETRY + 1} attempts`);
  });

  it('the worker has DEFAULT_CONCURRENCY slots unless WORKER_CONCURRENCY says otherwise', () => {
    expect(README).toContain(`the starter always gives it the default, ${DEFAULT_CONCURRENCY}.`);
  });

  it('the mailer keeps at most SMTP_MAX_CONNECTIONS connections, one per slot of a default worker', () => {
    expect(README).toContain(`The mailer keeps at most ${SMTP_MAX_CONNECTIONS} connections open to the mail server (\`SMTP_MAX_CONNECTIONS\``);
    expect(SMTP_MAX_CONNECTIONS, 'the README says: one for each slot of a default worker').toBe(DEFAULT_CONCURRENCY);
    expect(README).toContain(`With 50 slots, 50 emails can be ready at once: ${SMTP_MAX_CONNECTIONS} go out, and ${50 - SMTP_MAX_CONNECTIONS} wait in the pool`);
  });

  it('a SQLite write waits BUSY_TIMEOUT_MS for the other process', () => {
    expect(README).toContain(`a write waits up to ${BUSY_TIMEOUT_MS / 1_000} s (\`BUSY_TIMEOUT_MS\`)`);
  });
});
