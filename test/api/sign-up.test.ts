import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/api/body-limit.ts';
import { MAX_EMAIL_CHARS, MAX_NAME_CHARS } from '../../src/api/routes/users.ts';
import { UserRepo } from '../../src/db/users.ts';
import { freePort } from '../../src/dev/free-port.ts';
import { services, uniquePrefix } from '../support/services/services.ts';
import { apiTestbed } from '../support/api.ts';
import { waitUntil } from '../support/wait.ts';

// Sign-up, POST /api/users, in process: what it answers, and what it writes.

const bed = apiTestbed({ redisUrl: services().redisUrl, prefix: uniquePrefix('api-users') });
beforeAll(() => waitUntil('the producer connection', () => bed.redis.status === 'ready'));
afterAll(() => bed.close());
const users = new UserRepo(bed.db);

let serial = 0;
/** A fresh address for each sign-up: the users table outlives each test. */
function freshEmail(): string {
  return `new-user-${++serial}-${Date.now()}@example.test`;
}

/** The send_welcome rows in this testbed's outbox, sent or not, with their payloads. */
function welcomeRows(db = bed.db): { to: string; name: string }[] {
  const rows = db.prepare("SELECT payload FROM outbox WHERE task = 'send_welcome' ORDER BY id").all() as { payload: string }[];
  return rows.map((row) => JSON.parse(row.payload));
}

function countUsers(db = bed.db): number {
  return (db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
}

describe('POST /api/users', () => {
  it('answers 201 with the user, saves it, and writes send_welcome to the outbox, which the relay hands to the queue', async () => {
    const email = freshEmail();
    const { status, body } = await bed.post('/api/users', { email, name: 'Kim Lee' });
    expect(status).toBe(201);
    expect(body).toEqual({ user: { id: expect.any(Number), email, name: 'Kim Lee', birthday: null } });

    expect(users.findByEmail(email)).toEqual(body.user);
    expect(welcomeRows().filter((p) => p.to === email)).toEqual([{ to: email, name: 'Kim Lee' }]);

    await bed.relay.idle();
    const jobs = await bed.jobs.queue('default').getJobs(['waiting']);
    expect(jobs.filter((job) => job.data.to === email).map((job) => ({ name: job.name, data: job.data }))).toEqual([
      { name: 'send_welcome', data: { to: email, name: 'Kim Lee' } },
    ]);
  });

  it('keeps a birthday that is a real date, today at the latest', async () => {
    const email = freshEmail();
    const { status, body } = await bed.post('/api/users', { email, name: 'Ada', birthday: '2000-02-29' });
    expect(status).toBe(201);
    expect(body.user.birthday).toBe('2000-02-29');
    expect(users.findByEmail(email)?.birthday).toBe('2000-02-29');

    const today = new Date().toISOString().slice(0, 10);
    expect((await bed.post('/api/users', { email: freshEmail(), name: 'Newborn', birthday: today })).status).toBe(201);
  });

  it('trims the name, and trims and lowercases the whole email before it saves and greets', async () => {
    const email = freshEmail();
    const { status, body } = await bed.post('/api/users', { email: `  ${email.toUpperCase()}\t`, name: '  Kim  ' });
    expect(status).toBe(201);
    expect(body.user).toMatchObject({ email, name: 'Kim' });
    expect(welcomeRows().filter((p) => p.to === email)).toEqual([{ to: email, name: 'Kim' }]);
  });

  it('takes an email of exactly MAX_EMAIL_CHARS and a name of exactly MAX_NAME_CHARS', async () => {
    const domain = `@${'d'.repeat(60)}.example.test`;
    const email = `${'x'.repeat(MAX_EMAIL_CHARS - domain.length - 4)}${String(++serial).padStart(4, '0')}${domain}`;
    expect(email).toHaveLength(MAX_EMAIL_CHARS);
    const name = 'N'.repeat(MAX_NAME_CHARS);
    const { status, body } = await bed.post('/api/users', { email, name });
    expect({ status, error: body.error }).toEqual({ status: 201, error: undefined });
  });

  it('ignores fields it does not know, as POST /api/orders does', async () => {
    const email = freshEmail();
    const { status, body } = await bed.post('/api/users', { email, name: 'Kim', id: 1, admin: true });
    expect(status).toBe(201);
    expect(body.user.id).not.toBe(1);
    expect(Object.keys(body.user).sort()).toEqual(['birthday', 'email', 'id', 'name']);
  });

  it('answers 409 for an email that is taken, in any case and with spaces around, and writes nothing', async () => {
    const email = freshEmail();
    expect((await bed.post('/api/users', { email, name: 'First' })).status).toBe(201);
    const usersBefore = countUsers();
    const welcomes = welcomeRows().length;

    for (const again of [email, email.toUpperCase(), ` ${email} `]) {
      expect(await bed.post('/api/users', { email: again, name: 'Second' }), again).toEqual({
        status: 409,
        body: { error: 'a user with this email exists already' },
      });
    }
    expect(countUsers()).toBe(usersBefore);
    expect(welcomeRows()).toHaveLength(welcomes);
    expect(users.findByEmail(email)?.name).toBe('First');
  });

  it('answers 409 for a seeded demo user: the development seed still runs', async () => {
    expect((await bed.post('/api/users', { email: 'Ada@Example.test', name: 'Ada again' })).status).toBe(409);
    expect(users.findById(1)?.name).toBe('Ada Lovelace');
  });

  it('answers one of two sign-ups with the same email at once with 201, the other with 409', async () => {
    const email = freshEmail();
    const results = await Promise.all([
      bed.post('/api/users', { email, name: 'One' }),
      bed.post('/api/users', { email: email.toUpperCase(), name: 'Two' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(welcomeRows().filter((p) => p.to === email)).toHaveLength(1);
  });

  describe('answers 422 naming the field (400 for a body that is not JSON), and writes nothing, for', () => {
    const email = 'bad-input@example.test';
    const cases: [string, unknown, RegExp][] = [
      ['a JSON body that is not an object', '"ada@example.test"', /^Invalid input: expected object/],
      ['no email', { name: 'Kim' }, /^email: /],
      ['no name', { email }, /^name: /],
      ['an email that is not a string', { email: 42, name: 'Kim' }, /^email: /],
      ['an email that is not an address', { email: 'kim-at-example.test', name: 'Kim' }, /^email: Invalid email address$/],
      ['an email with no domain', { email: 'kim@', name: 'Kim' }, /^email: /],
      ['an email longer than MAX_EMAIL_CHARS', { email: `${'x'.repeat(MAX_EMAIL_CHARS - 12)}@example.test`, name: 'Kim' }, /^email: Too big/],
      ['a name of spaces only', { email, name: '   ' }, /^name: Too small/],
      ['a name longer than MAX_NAME_CHARS', { email, name: 'N'.repeat(MAX_NAME_CHARS + 1) }, /^name: Too big/],
      ['a name with a line break inside', { email, name: 'Kim\nBcc: x@example.test' }, /^name: must not contain control characters/],
      ['a name with a control character', { email, name: 'Kim\u0007' }, /^name: must not contain control characters/],
      ['a name with a C1 control character', { email, name: 'Kim\u0085Lee' }, /^name: must not contain control characters/],
      ['a name with a Unicode line separator', { email, name: 'Kim\u2028Lee' }, /^name: must not contain control characters/],
      ['a name with half an emoji', { email, name: 'Kim \ud83d' }, /^name: must not contain control characters/],
      ['a name that is not a string', { email, name: ['Kim'] }, /^name: /],
      ['a birthday that is not YYYY-MM-DD', { email, name: 'Kim', birthday: '10/12/1815' }, /^birthday: must be a real date, as YYYY-MM-DD$/],
      ['a birthday that is no real day', { email, name: 'Kim', birthday: '2023-02-29' }, /^birthday: must be a real date/],
      ['a birthday in the future', { email, name: 'Kim', birthday: '2999-01-01' }, /^birthday: must not be in the future$/],
      ['a birthday that is a number', { email, name: 'Kim', birthday: 19901231 }, /^birthday: /],
    ];

    it.each(cases)('%s', async (_, input, message) => {
      const usersBefore = countUsers();
      const welcomes = welcomeRows().length;
      const { status, body } = await bed.post('/api/users', input);
      expect({ status, body }).toEqual({ status: 422, body: { error: expect.stringMatching(message) } });
      expect(countUsers()).toBe(usersBefore);
      expect(welcomeRows()).toHaveLength(welcomes);
    });

    it('a body that is not JSON, with 400', async () => {
      const usersBefore = countUsers();
      expect(await bed.post('/api/users', '{"email": "a@example.test",')).toEqual({ status: 400, body: { error: 'body must be JSON' } });
      expect(countUsers()).toBe(usersBefore);
    });

    it('every field at once, each named', async () => {
      const { status, body } = await bed.post('/api/users', { email: 'nope', name: '', birthday: 'soon' });
      expect(status).toBe(422);
      expect(body.error).toMatch(/^email: .*; name: .*; birthday: /);
    });

    it('an email that is too long, without echoing it', async () => {
      const { body } = await bed.post('/api/users', { email: `${'x'.repeat(10_000)}@example.test`, name: 'N'.repeat(10_000) });
      expect(body.error).not.toContain('xxxx');
      expect(body.error).not.toContain('NNNN');
    });
  });

  it('answers 415 to a body that is not sent as JSON', async () => {
    const res = await bed.app.request('/api/users', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=kim%40example.test&name=Kim',
    });
    expect(res.status).toBe(415);
    expect(users.findByEmail('kim@example.test')).toBeUndefined();
  });

  it('answers 413 to a body over MAX_BODY_BYTES', async () => {
    const email = freshEmail();
    const body = JSON.stringify({ email, name: 'Kim', padding: 'x'.repeat(MAX_BODY_BYTES) });
    const res = await bed.app.request('/api/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    expect(res.status).toBe(413);
    expect(users.findByEmail(email)).toBeUndefined();
  });

  it('saves no user when its welcome email cannot be written: the two share one transaction', async () => {
    const email = freshEmail();
    bed.db.exec("CREATE TEMP TRIGGER outbox_refuses BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox refuses'); END");
    try {
      const { status, body } = await bed.post('/api/users', { email, name: 'Kim' });
      expect({ status, body }).toEqual({ status: 500, body: { error: 'internal error', request_id: expect.any(String) } });
    } finally {
      bed.db.exec('DROP TRIGGER outbox_refuses');
    }
    expect(users.findByEmail(email)).toBeUndefined();
    // And nothing half-done stands in the way of the next try.
    expect((await bed.post('/api/users', { email, name: 'Kim' })).status).toBe(201);
  });
});

describe('POST /api/users while Redis is down', () => {
  it('answers 201 at once: the welcome email waits in the outbox', async () => {
    const down = apiTestbed({ redisUrl: `redis://127.0.0.1:${await freePort()}`, prefix: uniquePrefix('api-users-down') });
    try {
      const startedAt = Date.now();
      const { status, body } = await down.post('/api/users', { email: 'offline@example.test', name: 'Kim' });
      expect(Date.now() - startedAt).toBeLessThan(1_000);
      expect(status).toBe(201);
      expect(new UserRepo(down.db).findById(body.user.id)).toEqual(body.user);
      expect(welcomeRows(down.db)).toEqual([{ to: 'offline@example.test', name: 'Kim' }]);
      expect(down.outbox.countPending()).toBe(1);
    } finally {
      await down.close();
    }
  });
});
