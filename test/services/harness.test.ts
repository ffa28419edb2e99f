import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { afterAll, describe, expect, it } from 'vitest';
import { createInbox } from '../support/services/inbox.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { startRedisServer, type RedisServer } from '../support/services/redis-server.ts';
import { services, uniquePrefix } from '../support/services/services.ts';

describe('services from the global setup', () => {
  it('Redis answers PING', async () => {
    const redis = new Redis(services().redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('an email sent over SMTP reaches the inbox, decoded', async () => {
    const s = services();
    const to = `${uniquePrefix('inbox')}@example.com`;
    const subject = `Votre reçu n°${Math.floor(Math.random() * 1e6)}`;
    // Long, non-ASCII lines make nodemailer use quoted-printable with soft breaks.
    const html = `<p>Café &amp; crème = ${'très bon, '.repeat(12)}</p>`;
    const transport = nodemailer.createTransport(s.smtpUrl);
    await transport.sendMail({ from: 'shop@example.com', to, subject, html, text: 'Café & crème' });
    transport.close();

    const mail = await createInbox(s).waitFor((m) => m.to.includes(to));
    expect(mail.subject).toBe(subject);
    expect(mail.html).toContain(html);
    expect(mail.text).toContain('Café & crème');
  });

  it('waitFor says what it saw when nothing matches', async () => {
    const inbox = createInbox(services());
    await expect(inbox.waitFor(() => false, 300)).rejects.toThrow(/No email matched within 300 ms .*The inbox held/s);
  });

  it('uniquePrefix gives a different prefix each time', () => {
    const a = uniquePrefix('retries');
    expect(a).toMatch(/^t-retries-[0-9a-f]{8}$/);
    expect(uniquePrefix('retries')).not.toBe(a);
  });
});

describe('startRedisServer', () => {
  let server: RedisServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('stops (connections refused) and starts again on the same url', async () => {
    server = await startRedisServer();
    const url = server.url;
    const ping = async () => {
      const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      // connect() itself rejects with "Connection is closed."; the cause comes as an event.
      let cause: Error | undefined;
      client.on('error', (err: Error) => (cause ??= err));
      try {
        await client.connect().catch((err: unknown) => {
          throw cause ?? err;
        });
        return await client.ping();
      } finally {
        client.disconnect();
      }
    };

    expect(await ping()).toBe('PONG');
    await server.stop();
    await expect(ping()).rejects.toThrow(/ECONNREFUSED/);
    await server.start();
    expect(server.url).toBe(url);
    expect(await ping()).toBe('PONG');
  });
});

describe('spawnScript', () => {
  afterAll(stopAll);

  it('runs a TypeScript script with env, no TTY, and captures its output', async () => {
    const child = spawnScript('test/support/fixtures/echo-script.ts', { GREETING: 'hello' }, 'echo');
    const line = await child.waitForOutput(/\{"msg":"ready".*\}/);
    expect(JSON.parse(line)).toEqual({ msg: 'ready', isTTY: false, logLevel: 'info', greeting: 'hello' });

    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output()).toContain('got SIGTERM, bye');
  });

  it('waitForOutput fails fast, with the output, when the script exits first', async () => {
    const child = spawnScript('test/support/fixtures/echo-script.ts', {}, 'echo');
    await child.waitForOutput(/ready/);
    child.kill('SIGKILL');
    await expect(child.waitForOutput(/never printed/, 10_000)).rejects.toThrow(/echo: exited \(SIGKILL\).*"msg":"ready"/s);
  });
});
