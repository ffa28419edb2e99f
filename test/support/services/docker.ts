import type Dockerode from 'dockerode';
import type { GenericContainer, StartedTestContainer } from 'testcontainers';
import { MAILHOG, MAIL_CATCHERS, type MailBackend } from '../../../src/dev/mail-catcher-apis.ts';
import type { StartedServices } from './started.ts';

/** Where each catcher's container answers once it is ready: MailHog's API, MailDev's web page. */
const READY_PATHS: Record<MailBackend, string> = { mailhog: MAILHOG.messagesPath, maildev: '/' };

/** How long a started container may take to say it is ready. */
const READY_TIMEOUT_MS = 30_000;

/** The images the Docker backend runs, from the environment, with the defaults a fresh clone uses. */
export interface DockerImages {
  redis: string;
  mail: string;
  mailBackend: MailBackend;
}

/**
 * dockerImages reads TEST_REDIS_IMAGE, TEST_MAIL_BACKEND (mailhog or maildev)
 * and TEST_MAIL_IMAGE, so a machine that cannot pull the defaults can bring
 * images of its own (CI builds its own, see .ci/images/).
 */
export function dockerImages(env: NodeJS.ProcessEnv = process.env): DockerImages {
  const mailBackend = (env.TEST_MAIL_BACKEND || 'mailhog') as MailBackend;
  if (!(mailBackend in MAIL_CATCHERS)) {
    throw new Error(`TEST_MAIL_BACKEND must be "mailhog" or "maildev", not "${env.TEST_MAIL_BACKEND}"`);
  }
  return {
    redis: env.TEST_REDIS_IMAGE || 'redis:7-alpine',
    mail: env.TEST_MAIL_IMAGE || MAIL_CATCHERS[mailBackend].image,
    mailBackend,
  };
}

/**
 * The containers' ports are published on the engine's 127.0.0.1, so that is
 * where testcontainers must look for them too. Left to itself, a machine with
 * a /.dockerenv file makes it look on the Docker bridge's gateway instead.
 * Set before testcontainers makes its client, which it keeps.
 */
function lookOnLoopback(): void {
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

/**
 * loopbackContainer is a container whose published ports are on 127.0.0.1
 * only (testcontainers' default is every interface), with these labels.
 */
export async function loopbackContainer(image: string, labels: Record<string, string> = {}): Promise<GenericContainer> {
  lookOnLoopback();
  const { GenericContainer } = await import('testcontainers');
  class LoopbackContainer extends GenericContainer {
    protected override async beforeContainerCreated(): Promise<void> {
      for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
        for (const binding of bindings as { HostIp?: string }[]) binding.HostIp = '127.0.0.1';
      }
    }
  }
  return new LoopbackContainer(image).withLabels(labels);
}

/**
 * redisContainer is a throwaway Redis in a container (no snapshot, no AOF),
 * ready once Redis says so. The callers publish its port their own way.
 */
export async function redisContainer(image: string, labels: Record<string, string> = {}): Promise<GenericContainer> {
  const { Wait } = await import('testcontainers');
  return (await loopbackContainer(image, labels))
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'));
}

/** True when a Docker engine answers within timeoutMs. */
export async function dockerAvailable(timeoutMs = 3_000): Promise<boolean> {
  lookOnLoopback();
  let timer: NodeJS.Timeout | undefined;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
    });
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * DockerServicesError says why Docker could not provide the services, and
 * how to get the images: the global setup prints it as one line.
 */
export class DockerServicesError extends Error {
  /** How to get the containers next time. */
  readonly fix: string;

  constructor(
    /** Why, as the end of "Docker answers, but …". */
    readonly reason: string,
    images: string[],
  ) {
    const fix = `To use containers, pull the images once while online: docker pull ${images.join(' ')}`;
    super(`${reason}. ${fix}`);
    this.name = 'DockerServicesError';
    this.fix = fix;
  }
}

/**
 * Starts Redis and a mail catcher in containers. Their ports are published on
 * 127.0.0.1 only, on ports Docker picks, and the tests reach them there.
 * Throws a DockerServicesError when an image is missing and cannot be
 * pulled, or a container never becomes ready; nothing is left running then.
 */
export async function startDockerServices(images = dockerImages()): Promise<StartedServices> {
  lookOnLoopback();
  const { Wait, getContainerRuntimeClient, ImageName } = await import('testcontainers');
  const catcher = MAIL_CATCHERS[images.mailBackend];
  const needed = [images.redis, images.mail, ...(await reaperImage())];
  const client = await getContainerRuntimeClient();
  const missing: string[] = [];
  for (const image of needed) if (!(await client.image.exists(ImageName.fromString(image)))) missing.push(image);

  // Every container of this start carries it, so a failed start can remove what it created.
  const runLabel = { 'workshop.harness-run': `${process.pid}-${Date.now()}` };
  const started: StartedTestContainer[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((c) => c.stop()));
  };
  let step = `start ${images.redis}`;
  try {
    const redis = await (await redisContainer(images.redis, runLabel))
      .withExposedPorts(6379)
      .withStartupTimeout(READY_TIMEOUT_MS)
      .start();
    started.push(redis);

    step = `start ${images.mail}`;
    let mail = (await loopbackContainer(images.mail, runLabel))
      .withExposedPorts(catcher.smtpPort, catcher.webPort)
      .withWaitStrategy(Wait.forHttp(READY_PATHS[images.mailBackend], catcher.webPort))
      .withStartupTimeout(READY_TIMEOUT_MS);
    // MailHog publishes no arm64 image; Apple Silicon runs the amd64 one emulated.
    if (images.mailBackend === 'mailhog') mail = mail.withPlatform('linux/amd64');
    const mailContainer = await mail.start();
    started.push(mailContainer);

    const redisPort = redis.getMappedPort(6379);
    const smtpPort = mailContainer.getMappedPort(catcher.smtpPort);
    const webPort = mailContainer.getMappedPort(catcher.webPort);
    return {
      services: {
        redisUrl: `redis://127.0.0.1:${redisPort}`,
        smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
        mailUiUrl: `http://127.0.0.1:${webPort}`,
        mailBackend: images.mailBackend,
        backend: 'docker',
      },
      description: `docker ${images.redis} on 127.0.0.1:${redisPort}, ${images.mail} (${images.mailBackend}) smtp :${smtpPort} web :${webPort}`,
      stop,
    };
  } catch (err) {
    await stop();
    await removeCreated(client.container.dockerode, runLabel);
    const detail = shortError(err);
    const reason = missing.length
      ? `the image${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not here and could not be pulled (${detail})`
      : `could not ${step} (${detail})`;
    throw new DockerServicesError(reason, missing.length ? missing : needed);
  }
}

/**
 * removeCreated removes containers that were created but never started (an
 * image without the command, say): without Ryuk, nothing else would.
 */
async function removeCreated(dockerode: Dockerode, label: Record<string, string>): Promise<void> {
  const filters = { label: Object.entries(label).map(([key, value]) => `${key}=${value}`) };
  const leftovers = await dockerode.listContainers({ all: true, filters }).catch(() => []);
  await Promise.allSettled(leftovers.map((c) => dockerode.getContainer(c.Id).remove({ force: true, v: true })));
}

/**
 * reaperImage is testcontainers' Ryuk, which removes the containers of a run
 * that died: the first start pulls it too, unless TESTCONTAINERS_RYUK_DISABLED=true.
 */
async function reaperImage(): Promise<string[]> {
  if (process.env.TESTCONTAINERS_RYUK_DISABLED === 'true') return [];
  const { REAPER_IMAGE } = await import('testcontainers/build/reaper/reaper.js');
  return [REAPER_IMAGE];
}

/** The first line of an engine error, without docker-modem's "(HTTP code 500) server error - ". */
function shortError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n', 1)[0] ?? '';
  return firstLine.replace(/^\(HTTP code \d+\)[^-]*- /, '').trim().slice(0, 300);
}
