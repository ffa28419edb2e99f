import { createServer, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { createSmtpMailer, SMTP_MAX_CONNECTIONS, SMTP_MAX_MESSAGES, SMTP_TIMEOUT_MS, type Mailer } from '../../src/mail/mailer.ts';
import { waitUntil } from '../support/wait.ts';

/** A real SMTP server that keeps the recipients it was sent and counts its connections. */
interface SmtpSink {
  port: number;
  /** Every recipient it accepted an email for. */
  received: string[];
  /** How many connections were opened to it, and how many of those are still open. */
  connections(): { opened: number; open: number };
  /** stop goes away the hard way, as a crashed server does: every connection is cut at once. */
  stop(): Promise<void>;
}

async function startSink(port = 0, options: { auth?: boolean } = {}): Promise<SmtpSink> {
  const received: string[] = [];
  let opened = 0;
  let closed = 0;
  const sockets = new Set<Socket>();
  const server = new SMTPServer({
    authOptional: !options.auth,
    disabledCommands: options.auth ? ['STARTTLS'] : ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      opened++;
      callback();
    },
    onClose() {
      closed++;
    },
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'shop' });
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push(...session.envelope.rcptTo.map((rcpt) => rcpt.address));
        callback();
      });
    },
  });
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as { port: number }).port,
    received,
    connections: () => ({ opened, open: opened - closed }),
    async stop() {
      const stopped = new Promise<void>((resolve) => server.server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

const email = (to: string) => ({ to, subject: 'Hello', html: '<p>Hello</p>', text: 'Hello' });
const recipients = (count: number, tag: string) => Array.from({ length: count }, (_, i) => `${tag}-${i}@example.test`);

// Everything a test starts, stopped after it whatever happened.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
function mailerFor(url: string): Mailer {
  const mailer = createSmtpMailer(url, 'Workshop Shop <shop@example.test>');
  cleanups.push(() => mailer.close());
  return mailer;
}
async function sink(port?: number, options?: { auth?: boolean }): Promise<SmtpSink> {
  const started = await startSink(port, options);
  cleanups.push(() => started.stop());
  return started;
}

describe('the pooled mailer', () => {
  it('sends many emails over a few connections, and every email arrives', async () => {
    const server = await sink();
    const mailer = mailerFor(`smtp://127.0.0.1:${server.port}`);

    const to = recipients(200, 'many');
    await Promise.all(to.map((address) => mailer.send(email(address))));

    expect(server.received.sort()).toEqual([...to].sort());
    expect(server.connections().opened).toBeLessThanOrEqual(SMTP_MAX_CONNECTIONS);
  });

  it('sends one email after another over the same connection', async () => {
    const server = await sink();
    const mailer = mailerFor(`smtp://127.0.0.1:${server.port}`);

    for (const address of recipients(5, 'one-by-one')) await mailer.send(email(address));

    expect(server.received).toHaveLength(5);
    expect(server.connections().opened).toBe(1);
  });

  it('opens a fresh connection after SMTP_MAX_MESSAGES emails', async () => {
    const server = await sink();
    const mailer = mailerFor(`smtp://127.0.0.1:${server.port}`);

    for (const address of recipients(SMTP_MAX_MESSAGES + 1, 'recycle')) await mailer.send(email(address));

    expect(server.received).toHaveLength(SMTP_MAX_MESSAGES + 1);
    expect(server.connections().opened).toBe(2);
  });

  it('close() leaves no connection open', async () => {
    const server = await sink();
    const mailer = mailerFor(`smtp://127.0.0.1:${server.port}`);
    await Promise.all(recipients(30, 'close').map((address) => mailer.send(email(address))));
    expect(server.connections().open).toBeGreaterThan(0);

    mailer.close();

    await waitUntil('every connection to close', () => server.connections().open === 0, 2_000);
  });

  it('rejects a send while the server is down, well within SMTP_TIMEOUT_MS', async () => {
    const nobody = await freePort();
    const mailer = mailerFor(`smtp://127.0.0.1:${nobody}`);

    const startedAt = Date.now();
    await expect(mailer.send(email('down@example.test'))).rejects.toThrow(/ECONNREFUSED/);
    expect(Date.now() - startedAt).toBeLessThan(SMTP_TIMEOUT_MS);
  });

  it('recovers when the server goes away and comes back on the same port', async () => {
    const first = await sink();
    const mailer = mailerFor(`smtp://127.0.0.1:${first.port}`);
    await Promise.all(recipients(20, 'before').map((address) => mailer.send(email(address))));

    await first.stop();
    await expect(mailer.send(email('while-down@example.test'))).rejects.toThrow();

    const second = await sink(first.port);
    await mailer.send(email('after@example.test'));
    expect(second.received).toEqual(['after@example.test']);
  });

  it('rejects each of a worker-full of sends within SMTP_TIMEOUT_MS when the server never answers', async () => {
    // A server that takes the connection and then says nothing: only the timeouts end the wait.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const mailer = mailerFor(`smtp://127.0.0.1:${(silent.address() as { port: number }).port}`);

    const startedAt = Date.now();
    const sends = recipients(SMTP_MAX_CONNECTIONS, 'silent').map(async (address) => {
      await expect(mailer.send(email(address))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      return Date.now() - startedAt;
    });

    // Each one fails after its own greeting timeout, none after waiting for another's.
    for (const ms of await Promise.all(sends)) expect(ms).toBeLessThan(SMTP_TIMEOUT_MS + 2_000);
  });

  it('will not log in over smtp:// without STARTTLS', async () => {
    const server = await sink(0, { auth: true });
    const mailer = mailerFor(`smtp://shop:s3cret@127.0.0.1:${server.port}`);

    await expect(mailer.send(email('secret@example.test'))).rejects.toThrow(/STARTTLS/);
    expect(server.received).toEqual([]);
  });
});
