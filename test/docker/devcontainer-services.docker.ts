import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/dev/free-port.ts';
import { answers } from '../../src/dev/reachable.ts';
import { readDevContainer, ROOT } from '../support/devcontainer.ts';
import { waitUntil } from '../support/wait.ts';
import { docker } from '../support/docker-engine.ts';

// The dev container's services as its editor starts them: Compose with
// devcontainer.json's files, in a project of its own. Only Redis and MailHog:
// the app container's image comes from a registry. Their ports are published
// on free ports, so nothing meets a Redis or MailHog already running here.

const run = promisify(execFile);
const { config: devcontainer, composeFiles } = readDevContainer();
const project = `workshop-devcontainer-${process.pid}`;
const ports = { redis: 0, smtp: 0, mailUi: 0 };
let compose: (...args: string[]) => Promise<string>;

/** findCompose returns the Compose command here: v2's `docker compose`, else v1's `docker-compose` (Debian's). */
async function findCompose(): Promise<string[]> {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const [file, ...first] = command as [string, ...string[]];
    if (await run(file, [...first, 'version']).then(() => true, () => false)) return command;
  }
  throw new Error('test:docker needs Docker Compose: docker compose (v2) or docker-compose (v1, Debian\'s package)');
}

beforeAll(async () => {
  await docker('info', '--format', '{{.ServerVersion}}').catch(() => {
    throw new Error('test:docker needs a running Docker engine (.ci/run installs and starts one).');
  });
  const [file, ...first] = (await findCompose()) as [string, ...string[]];
  [ports.redis, ports.smtp, ports.mailUi] = [await freePort(), await freePort(), await freePort()];
  // docker-compose.yml publishes on the ports these name.
  const env = { ...process.env, REDIS_PORT: String(ports.redis), SMTP_PORT: String(ports.smtp), MAIL_UI_PORT: String(ports.mailUi) };
  const fileArgs = composeFiles.flatMap((path) => ['-f', path]);
  compose = async (...args) => {
    const { stdout } = await run(file, [...first, '-p', project, ...fileArgs, ...args], { env, timeout: 90_000 }).catch((err) => {
      throw new Error(`${file} ${[...first, ...args].join(' ')} failed: ${(err as { stderr?: string }).stderr || (err as Error).message}`);
    });
    return stdout;
  };
});

afterAll(async () => {
  await compose?.('down', '-v').catch(() => {});
});

/** The services that the dev container starts beside its own. */
const beside = devcontainer.runServices.filter((name) => name !== devcontainer.service);

describe("the dev container's Compose files", () => {
  it('mount the repository at the workspace folder', async () => {
    const config = parse(await compose('config')) as { services: Record<string, { volumes?: (string | { source: string; target: string })[] }> };
    // v2 prints each volume as an object, v1 as "source:target:mode".
    const mounts = (config.services[devcontainer.service]?.volumes ?? []).map((volume) =>
      typeof volume === 'string' ? volume.split(':').slice(0, 2).join(':') : `${volume.source}:${volume.target}`,
    );
    expect(mounts).toContain(`${ROOT.replace(/\/$/, '')}:${devcontainer.workspaceFolder}`);
  });

  it('start Redis and MailHog, which answer', async () => {
    expect([...beside].sort()).toEqual(['mailhog', 'redis']);
    const config = parse(await compose('config')) as { services: Record<string, { image: string }> };
    for (const name of beside) {
      const image = config.services[name]!.image;
      await docker('image', 'inspect', image).catch(() => {
        throw new Error(`test:docker needs the image ${image}: pull it, or build it with bash .ci/images/build.sh`);
      });
    }
    await compose('up', '-d', ...beside);

    const pong = await waitUntil('Redis to answer PING', () => ping(`redis://127.0.0.1:${ports.redis}`), 30_000);
    expect(pong).toBe('PONG');
    const messages = await waitUntil('MailHog\'s API to answer', () => mailHogMessages(`http://127.0.0.1:${ports.mailUi}`), 30_000);
    expect(messages).toMatchObject({ total: 0, items: [] });
    expect(await answers(`smtp://127.0.0.1:${ports.smtp}`)).toBe(true);
  });

  it('take them down, with their volume', async () => {
    await compose('down', '-v');
    const label = `label=com.docker.compose.project=${project}`;
    expect(await docker('ps', '--all', '--quiet', '--filter', label)).toBe('');
    expect(await docker('volume', 'ls', '--quiet', '--filter', label)).toBe('');
  });
});

/** ping returns Redis's answer to PING, or undefined while it does not answer. */
async function ping(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.ping();
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}

/** mailHogMessages returns the body of MailHog's /api/v2/messages, or undefined while it does not answer. */
async function mailHogMessages(mailUiUrl: string): Promise<unknown> {
  try {
    const res = await fetch(`${mailUiUrl}/api/v2/messages`);
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}
