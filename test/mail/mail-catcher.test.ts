// Which mail catcher startMailCatcher runs, and why: a MailHog binary where
// MAILHOG_BIN or PATH names one, else MailDev in-process. The MailHog here is a
// stand-in script, so that the choice and the process handling are tested on
// every machine; the inbox tests (test/mail/inbox-mailhog.test.ts) run the
// real MailHog wherever it is.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectMailCatcher } from '../../src/dev/inbox.ts';
import { startMailCatcher, type MailCatcher } from '../../src/dev/mail-catcher.ts';
import { isReachable } from '../../src/dev/reachable.ts';

const running: MailCatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

/** A folder holding an executable `mailhog` with this script's body, for PATH or MAILHOG_BIN. */
function fakeMailHog(body: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-mailhog-'));
  const path = join(dir, 'mailhog');
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return { dir, path };
}

// Serves what MailHog serves for readiness, on the addresses of MailHog's own flags.
const SERVES_LIKE_MAILHOG = `exec "${process.execPath}" -e '
const net = require("node:net"), http = require("node:http");
const flag = (name) => process.argv[process.argv.indexOf(name) + 1].split(":");
const [smtpHost, smtpPort] = flag("-smtp-bind-addr"), [apiHost, apiPort] = flag("-api-bind-addr");
net.createServer((s) => s.end("220 fake ESMTP\\r\\n")).listen(Number(smtpPort), smtpHost);
http.createServer((req, res) => res.end(JSON.stringify({ total: 0, count: 0, start: 0, items: [] }))).listen(Number(apiPort), apiHost);
' -- "$@"`;

const NO_MAILHOG = { PATH: '/usr/bin:/bin' };

async function start(env: NodeJS.ProcessEnv): Promise<MailCatcher> {
  const mail = await startMailCatcher({ env });
  running.push(mail);
  return mail;
}

describe('startMailCatcher', () => {
  it('runs MailDev in-process when no MailHog is found, and says so', async () => {
    const mail = await start(NO_MAILHOG);
    expect(mail.backend).toBe('maildev');
    expect(mail.reason).toBe('MailDev, in-process: no MAILHOG_BIN and no mailhog on PATH');
    expect(await detectMailCatcher(`http://127.0.0.1:${mail.webPort}`)).toBe('maildev');
  });

  it('runs the mailhog on PATH as a process, and stops it', async () => {
    const fake = fakeMailHog(SERVES_LIKE_MAILHOG);
    const mail = await start({ PATH: `${fake.dir}:/usr/bin:/bin` });
    expect(mail.backend).toBe('mailhog');
    expect(mail.reason).toBe(`MailHog, mailhog on PATH (${fake.path})`);
    expect(await detectMailCatcher(`http://127.0.0.1:${mail.webPort}`)).toBe('mailhog');

    await mail.stop();
    expect(await isReachable(`smtp://127.0.0.1:${mail.smtpPort}`)).toBe(false);
    expect(await isReachable(`http://127.0.0.1:${mail.webPort}`)).toBe(false);
  });

  it('prefers MAILHOG_BIN to PATH', async () => {
    const onPath = fakeMailHog('exit 3');
    const named = fakeMailHog(SERVES_LIKE_MAILHOG);
    const mail = await start({ PATH: `${onPath.dir}:/usr/bin:/bin`, MAILHOG_BIN: named.path });
    expect(mail.reason).toBe(`MailHog, MAILHOG_BIN=${named.path}`);
  });

  it('falls back to MailDev, saying why, when the mailhog on PATH cannot start', async () => {
    const broken = fakeMailHog('echo "listen tcp: something is wrong" >&2; exit 1');
    const mail = await start({ PATH: `${broken.dir}:/usr/bin:/bin` });
    expect(mail.backend).toBe('maildev');
    expect(mail.reason).toBe(`MailDev, in-process: MailHog on PATH did not start (MailHog (${broken.path}) exited (exit code 1): listen tcp: something is wrong)`);
  });

  it('fails, saying why, when MAILHOG_BIN is set but cannot start', async () => {
    const broken = fakeMailHog('echo "bind: permission denied" >&2; exit 1');
    await expect(start({ ...NO_MAILHOG, MAILHOG_BIN: broken.path })).rejects.toThrow(`MailHog (${broken.path}) exited (exit code 1):\nbind: permission denied`);
    await expect(start({ ...NO_MAILHOG, MAILHOG_BIN: '/no/such/mailhog' })).rejects.toThrow(
      'MAILHOG_BIN=/no/such/mailhog is not an executable file. Point it at a MailHog binary, or unset it.',
    );
  });

  it('tries other free ports when another process takes one of those it picked', async () => {
    // The first start says what MailHog says when its port is taken; the next one works.
    const flaky = fakeMailHog(`
count="$(dirname "$0")/starts"; echo x >> "$count"
if [ "$(wc -l < "$count")" -eq 1 ]; then echo "[SMTP] Error listening on socket: listen tcp 127.0.0.1:1: bind: address already in use"; exit 1; fi
${SERVES_LIKE_MAILHOG}`);
    const mail = await start({ ...NO_MAILHOG, MAILHOG_BIN: flaky.path });
    expect(mail.backend).toBe('mailhog');
    expect(await detectMailCatcher(`http://127.0.0.1:${mail.webPort}`)).toBe('mailhog');
  });
});
