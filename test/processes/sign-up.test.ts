import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { JobsClient } from '../../src/jobs/client.ts';
import { redisConnection } from '../../src/jobs/connection.ts';
import { createInbox } from '../support/services/inbox.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { closeConnection, testRedis, testRedisEnv } from '../support/redis.ts';
import { waitUntil } from '../support/wait.ts';

// Sign-up as separate processes: the welcome email reaches the inbox, and in
// production (no demo users, no dev routes) a new customer can sign up and order.

afterAll(stopAll);

/** An address no other suite sends to: the inbox is shared. */
function uniqueEmail(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}@example.test`;
}

async function post(baseUrl: string, path: string, body: unknown) {
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** startApi runs `src/cmd/api.ts` on a free port and resolves with its base URL once it listens. */
async function startApi(env: Record<string, string>, label: string): Promise<{ api: ChildScript; baseUrl: string }> {
  const port = await freePort();
  const api = spawnScript('src/cmd/api.ts', { ...env, PORT: String(port) }, label);
  await api.waitForOutput(/API listening/, 20_000);
  return { api, baseUrl: `http://127.0.0.1:${port}` };
}

function tempDatabasePath(label: string): string {
  return join(mkdtempSync(join(tmpdir(), `${label}-`)), 'app.db');
}

describe('sign-up, end to end', () => {
  const inbox = createInbox(services());
  let baseUrl: string;
  let worker: ChildScript;

  beforeAll(async () => {
    const env = {
      ...testRedisEnv(),
      SMTP_URL: services().smtpUrl,
      QUEUE_PREFIX: uniquePrefix('sign-up-e2e'),
      DATABASE_PATH: tempDatabasePath('sign-up-e2e'),
    };
    worker = spawnScript('src/cmd/worker.ts', env, 'worker');
    [{ baseUrl }] = await Promise.all([startApi(env, 'api'), worker.waitForOutput(/worker started/, 20_000)]);
  });

  it('puts the welcome email in the inbox, with the name escaped in its HTML', async () => {
    const email = uniqueEmail('welcome');
    const name = 'Kim <b>&"';
    const { status, body } = await post(baseUrl, '/api/users', { email, name });
    expect(status).toBe(201);
    expect(body.user).toMatchObject({ email, name });

    const mail = await inbox.waitFor((m) => m.to.includes(email));
    expect(mail.subject).toBe('Welcome, Kim <b>&"!');
    expect(mail.html).toContain('<h1>Welcome, Kim &lt;b&gt;&amp;&quot;!</h1>');
    expect(mail.html).not.toContain('<b>&"');
    expect(mail.text).toContain('Welcome, Kim <b>&"!');
    await worker.waitForOutput(/"task":"send_welcome".*job done in \d+ ms/);
  });
});

describe('sign-up in production', () => {
  const prefix = uniquePrefix('sign-up-prod');
  const databasePath = tempDatabasePath('sign-up-prod');
  const env = {
    NODE_ENV: 'production',
    ADMIN_PASSWORD: 'sign-up-Test-pw-1',
    ...testRedisEnv(),
    QUEUE_PREFIX: prefix,
    DATABASE_PATH: databasePath,
  };
  // Two API processes on one database, as two replicas behind a load balancer.
  let first: string;
  let second: string;

  beforeAll(async () => {
    // One at a time: the second finds the schema and the catalog in place.
    ({ baseUrl: first } = await startApi(env, 'api-prod-1'));
    ({ baseUrl: second } = await startApi(env, 'api-prod-2'));
  });

  it('signs a new customer up, hands send_welcome to the queue, and takes an order from them', async () => {
    const email = uniqueEmail('prod');
    const signUp = await post(first, '/api/users', { email, name: 'Kim' });
    expect({ status: signUp.status, error: signUp.body.error }).toEqual({ status: 201, error: undefined });

    const order = await post(second, '/api/orders', { user_id: signUp.body.user.id, sku: 'mug', quantity: 1 });
    expect({ status: order.status, error: order.body.error }).toEqual({ status: 201, error: undefined });
    expect(order.body.order).toMatchObject({ userId: signUp.body.user.id, sku: 'mug' });

    const connection = redisConnection(testRedis());
    const jobs = new JobsClient(connection, { prefix });
    try {
      const welcome = await waitUntil('send_welcome in the queue', async () =>
        (await jobs.queue('default').getJobs(['waiting'])).find((job) => job.name === 'send_welcome' && job.data.to === email),
      );
      expect(welcome.data).toEqual({ to: email, name: 'Kim' });
    } finally {
      await jobs.close();
      closeConnection(connection);
    }
  });

  it('has no demo users: their emails are free to sign up with', async () => {
    expect((await post(first, '/api/users', { email: 'ada@example.test', name: 'Ada' })).status).toBe(201);
  });

  it('answers one of two sign-ups with the same email, sent to both processes at once, with 201 and the other with 409', async () => {
    const emails = Array.from({ length: 10 }, () => uniqueEmail('race'));
    const rounds = await Promise.all(
      emails.map((email) =>
        Promise.all([post(first, '/api/users', { email, name: 'One' }), post(second, '/api/users', { email: email.toUpperCase(), name: 'Two' })]),
      ),
    );
    for (const [i, round] of rounds.entries()) {
      expect(round.map((r) => r.status).sort(), emails[i]).toEqual([201, 409]);
    }

    const db = new Database(databasePath, { readonly: true });
    try {
      const count = db.prepare('SELECT count(*) AS n FROM users WHERE email IN (SELECT value FROM json_each(?))');
      expect(count.get(JSON.stringify(emails))).toEqual({ n: emails.length });
    } finally {
      db.close();
    }
  });
});
