// The real worker (`npm run worker`) drains on SIGTERM: the job it is running
// finishes before the process exits. The job is a welcome email whose SMTP
// connection waits at a gate until the stop has begun, so it is surely still
// running when SIGTERM arrives.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInbox } from '../support/services/inbox.ts';
import { spawnScript, stopAll } from '../support/child-script.ts';
import { services } from '../support/services/services.ts';
import { jobsTestbed } from '../support/jobs.ts';
import { testRedisEnv } from '../support/redis.ts';

const bed = jobsTestbed('worker-drain');
const inbox = createInbox(services());
const tempDir = mkdtempSync(join(tmpdir(), 'jobs-worker-drain-'));
let gate: SmtpGate;

beforeAll(async () => {
  gate = await smtpGate(services().smtpUrl);
});
afterAll(async () => {
  await stopAll();
  await bed.cleanup();
  await gate?.close();
  rmSync(tempDir, { recursive: true, force: true });
});

type SmtpGate = Awaited<ReturnType<typeof smtpGate>>;

/**
 * smtpGate listens on a port of its own and forwards each connection to the
 * SMTP server at `smtpUrl`, but only once open() is called: until then a
 * client waits for the server's greeting, as if the server were slow
 * (the mailer gives up after SMTP_TIMEOUT_MS, so open it well before).
 */
async function smtpGate(smtpUrl: string) {
  const upstream = new URL(smtpUrl);
  const sockets = new Set<Socket>();
  const waiting: Socket[] = [];
  let isOpen = false;
  const forward = (client: Socket) => {
    const server = connect(Number(upstream.port), upstream.hostname);
    sockets.add(server);
    client.pipe(server).pipe(client);
    server.on('error', () => client.destroy());
  };
  const listener = createServer((client) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    if (isOpen) forward(client);
    else waiting.push(client);
  });
  await new Promise<void>((listening) => listener.listen(0, '127.0.0.1', listening));
  return {
    url: `smtp://127.0.0.1:${(listener.address() as AddressInfo).port}`,
    /** How many connections wait at the gate. */
    waiting: () => waiting.length,
    open() {
      isOpen = true;
      for (const client of waiting.splice(0)) forward(client);
    },
    close: () =>
      new Promise<void>((closed) => {
        for (const socket of sockets) socket.destroy();
        listener.close(() => closed());
      }),
  };
}

describe('the worker process, sent SIGTERM', () => {
  it('finishes the job it is running, logs its drain, and exits 0', async () => {
    const worker = spawnScript(
      'src/cmd/worker.ts',
      {
        ...testRedisEnv(),
        SMTP_URL: gate.url,
        QUEUE_PREFIX: bed.prefix,
        DATABASE_PATH: join(tempDir, 'app.db'),
        UPLOADS_DIR: join(tempDir, 'uploads'),
      },
      'draining-worker',
    );
    await worker.waitForOutput(/worker started/, 20_000);

    const to = `drain-${randomBytes(4).toString('hex')}@example.test`;
    const { id, queue } = await bed.client.enqueue('send_welcome', { to, name: 'Grace' });
    await worker.waitForOutput(new RegExp(`"job":"${id}"[^\n]*"msg":"job started"`));
    await expect.poll(gate.waiting).toBe(1); // the email is on its way, held at the gate

    worker.kill('SIGTERM');
    await worker.waitForOutput(/worker stopping: waiting for running jobs/);
    gate.open();

    expect(await worker.exited).toEqual({ code: 0, signal: null });
    const output = worker.output();
    expect(output).toMatch(/SIGTERM: shutting down/);
    expect(output).toMatch(/"running":1[^\n]*"msg":"worker stopping: waiting for running jobs"/);
    expect(output).toMatch(new RegExp(`"job":"${id}"[^\n]*job done in \\d+ ms`));
    expect(output).toMatch(/"msg":"worker stopped"/);
    expect(output).not.toMatch(/shutdown timeout/);
    expect(await bed.client.queue(queue).getJobState(id)).toBe('completed');
    const mail = await inbox.waitFor((m) => m.to.includes(to));
    expect(mail.subject).toBe('Welcome, Grace!');
  });
});
