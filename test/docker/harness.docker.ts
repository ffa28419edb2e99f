import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { startDockerServices, type DockerImages } from '../support/services/docker.ts';
import { spawnCommand } from '../support/child-script.ts';
import { docker, requireEngineAndImages, UNPULLABLE } from '../support/docker-engine.ts';

let images: DockerImages;
beforeAll(async () => {
  images = await requireEngineAndImages();
});

/** Runs the harness's own suite through `npx vitest run`, as npm test would, with env on top. */
async function harnessSuite(env: Record<string, string>) {
  const run = spawnCommand('npx vitest run test/services/harness.test.ts', { TEST_SERVICES: '', ...env }, 'vitest');
  const { code } = await run.exited;
  return { code, output: run.output().replace(/\x1b\[[0-9;]*m/g, '') };
}

describe('the test harness with a Docker engine that cannot run its images', () => {
  const missing = { TEST_REDIS_IMAGE: UNPULLABLE('redis'), TEST_MAIL_IMAGE: UNPULLABLE('mailhog') };

  it('falls back to local services, in one line that says why and how to get the containers', async () => {
    const { code, output } = await harnessSuite(missing);
    expect(code, output).toBe(0);
    const lines = output.split('\n').filter((line) => line.includes('Docker answers, but'));
    expect(lines, output).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\[harness\\] Docker answers, but the images ${missing.TEST_REDIS_IMAGE}, ${missing.TEST_MAIL_IMAGE}.* are not here and could not be pulled \\(.*registry\\.invalid.*\\), ` +
          `so the tests use local services\\. To use containers, pull the images once while online: docker pull ${missing.TEST_REDIS_IMAGE} ${missing.TEST_MAIL_IMAGE}`,
      ),
    );
    expect(output).toMatch(/^\[harness\] services: local redis-server/m);
    expect(output).toMatch(/Tests +7 passed/);
  });

  it('fails the run with TEST_SERVICES=docker, and says why', async () => {
    const { code, output } = await harnessSuite({ ...missing, TEST_SERVICES: 'docker' });
    expect(code).not.toBe(0);
    expect(output).toContain(`TEST_SERVICES=docker, but Docker answers and the images ${missing.TEST_REDIS_IMAGE}, ${missing.TEST_MAIL_IMAGE}`);
    expect(output).toContain(`docker pull ${missing.TEST_REDIS_IMAGE} ${missing.TEST_MAIL_IMAGE}`);
    expect(output).not.toMatch(/Tests +\d+ passed/);
  });

  it('falls back when a container will not start, naming the image', async () => {
    // The mail catcher's image has no redis-server: the engine refuses to start it as Redis.
    const { code, output } = await harnessSuite({ TEST_REDIS_IMAGE: images.mail, TEST_MAIL_BACKEND: images.mailBackend, TEST_MAIL_IMAGE: images.mail });
    expect(code, output).toBe(0);
    expect(output).toMatch(new RegExp(`^\\[harness\\] Docker answers, but could not start ${images.mail} \\(.+\\), so the tests use local services`, 'm'));
    // The container that the engine created but could not start is gone too.
    expect(await docker('ps', '--all', '--quiet', '--filter', `ancestor=${images.mail}`, '--filter', 'status=created')).toBe('');
  });
});

describe('the test harness with its images', () => {
  it('publishes the containers on 127.0.0.1 only, and stops them', async () => {
    const started = await startDockerServices(images);
    try {
      const { redisUrl, smtpUrl, mailUiUrl } = started.services;
      for (const url of [redisUrl, smtpUrl, mailUiUrl]) expect(new URL(url).hostname).toBe('127.0.0.1');

      const redis = new Redis(redisUrl);
      expect(await redis.ping()).toBe('PONG');
      redis.disconnect();

      const ports = await publishedPorts([images.redis, images.mail]);
      expect(ports.length).toBe(3); // Redis, SMTP, web inbox
      for (const binding of ports) expect(binding).toMatch(/^127\.0\.0\.1:\d+->\d+\/tcp$/);
    } finally {
      await started.stop();
    }
    expect(await publishedPorts([images.redis, images.mail])).toEqual([]);
  });
});

/** The host bindings of running containers of these images, e.g. `127.0.0.1:49153->6379/tcp`. */
async function publishedPorts(imageNames: string[]): Promise<string[]> {
  // docker ps names an image as it was asked for, with or without ":latest".
  const bare = (image: string) => image.replace(/:latest$/, '');
  const wanted = new Set(imageNames.map(bare));
  const rows = await docker('ps', '--format', '{{.Image}}\t{{.Ports}}');
  return rows
    .split('\n')
    .map((row) => row.split('\t'))
    .filter(([image]) => wanted.has(bare(image!)))
    .flatMap(([, ports]) => (ports ? ports.split(', ') : []));
}
