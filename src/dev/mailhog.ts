import { resolve } from 'node:path';
import { freePort } from './free-port.ts';
import { MAILHOG } from './mail-catcher-apis.ts';
import type { RunningCatcher } from './maildev.ts';
import { binaryOnPath, isExecutableFile } from './on-path.ts';
import { answers, answersJson } from './reachable.ts';
import { watchService } from './service-process.ts';
import { spawnTethered } from './tethered.ts';

/** A MailHog binary, and how it was found, in words for the banner. */
export interface MailHogBinary {
  path: string;
  foundBy: string;
}

/** READY_TIMEOUT_MS: how long MailHog has to answer on both ports. It needs a few milliseconds. */
const READY_TIMEOUT_MS = 10_000;
/** PORT_TRIES: how often a start on ports we picked is tried again when another process took one first. */
const PORT_TRIES = 3;

/**
 * findMailHog finds the MailHog binary: MAILHOG_BIN when it is set, else
 * `mailhog` on PATH, where Homebrew installs it. A MAILHOG_BIN that names no
 * executable file is an error, not a reason to look elsewhere: it was set on
 * purpose.
 */
export function findMailHog(env: NodeJS.ProcessEnv = process.env): MailHogBinary | undefined {
  const named = env.MAILHOG_BIN;
  if (named) {
    if (!isExecutableFile(named)) {
      throw new Error(`MAILHOG_BIN=${named} is not an executable file. Point it at a MailHog binary, or unset it.`);
    }
    return { path: resolve(named), foundBy: `MAILHOG_BIN=${named}` };
  }
  const onPath = binaryOnPath('mailhog', env.PATH);
  return onPath ? { path: onPath, foundBy: `mailhog on PATH (${onPath})` } : undefined;
}

/**
 * startMailHog runs the MailHog binary as a process: SMTP on smtpPort, the web
 * inbox and its API on webPort, both on 127.0.0.1, mail kept in memory. Port 0
 * (the default) picks a free port. It resolves once both ports answer, and
 * throws with MailHog's last lines if it exits first. Should this process exit
 * without calling stop(), or die, MailHog is stopped with it.
 */
export async function startMailHog(binary: string, { smtpPort = 0, webPort = 0 } = {}): Promise<RunningCatcher> {
  const picked = smtpPort === 0 || webPort === 0;
  for (let attempt = 1; ; attempt++) {
    const ports = { smtp: smtpPort || (await freePort()), web: webPort || (await freePort()) };
    try {
      return await runMailHog(binary, ports);
    } catch (err) {
      // Between freePort() and MailHog's bind, another process may take the port.
      const taken = /address already in use/i.test((err as Error).message);
      if (!picked || !taken || attempt >= PORT_TRIES) throw err;
    }
  }
}

async function runMailHog(binary: string, ports: { smtp: number; web: number }): Promise<RunningCatcher> {
  const web = `127.0.0.1:${ports.web}`;
  const args = ['-smtp-bind-addr', `127.0.0.1:${ports.smtp}`, '-api-bind-addr', web, '-ui-bind-addr', web];
  // Its own process group, so a Ctrl-C in the terminal reaches only the
  // process that started it, which stops it after the apps that send mail.
  // Tethered, so that it stops too if that process is killed outright.
  const child = spawnTethered(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  const service = watchService(child, `MailHog (${binary})`);

  const inbox = `http://${web}${MAILHOG.messagesPath}?limit=1`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await ready(inbox, `smtp://127.0.0.1:${ports.smtp}`))) {
    const exited = service.exited();
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`MailHog (${binary}) did not answer on ${web} and SMTP port ${ports.smtp} within ${READY_TIMEOUT_MS / 1000} s:\n${service.lastLines()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  // Another program on the same ports would answer too; ours must still run.
  const exited = service.exited();
  if (exited) throw new Error(exited);

  return {
    smtpPort: ports.smtp,
    webPort: ports.web,
    stop: service.stop,
  };
}

/** ready: the inbox API answers with JSON, and the SMTP server greets. */
async function ready(inboxUrl: string, smtpUrl: string): Promise<boolean> {
  return (await answersJson(inboxUrl)) && answers(smtpUrl);
}
