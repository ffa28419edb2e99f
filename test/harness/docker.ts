import type { StartedTestContainer } from 'testcontainers';
import type { StartedServices } from './started.ts';

const REDIS_IMAGE = 'redis:7-alpine';
const MAILHOG_IMAGE = 'mailhog/mailhog';

/** True when a Docker engine answers within timeoutMs. */
export async function dockerAvailable(timeoutMs = 3_000): Promise<boolean> {
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

/** Starts Redis and MailHog containers on ports that Docker maps. */
export async function startDockerServices(): Promise<StartedServices> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const started: StartedTestContainer[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((c) => c.stop()));
  };

  try {
    const redis = await new GenericContainer(REDIS_IMAGE)
      .withCommand(['redis-server', '--save', '', '--appendonly', 'no'])
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start();
    started.push(redis);

    const mailhog = await new GenericContainer(MAILHOG_IMAGE)
      .withPlatform('linux/amd64') // MailHog has no arm64 image
      .withExposedPorts(1025, 8025)
      .withWaitStrategy(Wait.forHttp('/api/v2/messages', 8025))
      .start();
    started.push(mailhog);

    const redisAddr = `${redis.getHost()}:${redis.getMappedPort(6379)}`;
    const mailHost = mailhog.getHost();
    const smtpPort = mailhog.getMappedPort(1025);
    const webPort = mailhog.getMappedPort(8025);
    return {
      services: {
        redisUrl: `redis://${redisAddr}`,
        smtpUrl: `smtp://${mailHost}:${smtpPort}`,
        mailUiUrl: `http://${mailHost}:${webPort}`,
        mailBackend: 'mailhog',
        backend: 'docker',
      },
      description: `docker ${REDIS_IMAGE} on ${redisAddr}, MailHog smtp :${smtpPort} web :${webPort}`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
