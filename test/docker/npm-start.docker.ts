import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.ts';
import { catcherName } from '../../src/dev/mail-catcher-apis.ts';
import { findMailHog } from '../../src/dev/mailhog.ts';
import type { DockerImages } from '../support/services/docker.ts';
import { createInbox } from '../support/services/inbox.ts';
import { spawnScript, stopAll, type ChildScript } from '../support/child-script.ts';
import { docker, requireEngineAndImages, UNPULLABLE } from '../support/docker-engine.ts';
import { BANNER_END, interrupt } from '../support/npm-start.ts';

// npm start as a developer runs it with Docker, on ports of its own and in a
// Compose project of its own, so that nothing it starts meets the developer's.
const projects: string[] = [];
let images: DockerImages;

beforeAll(async () => {
  images = await requireEngineAndImages();
});

afterAll(async () => {
  await stopAll();
  // What Compose made goes too: the containers, their network and the Redis volume.
  for (const project of projects) {
    await docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`).then(async (ids) => {
      if (ids) await docker('rm', '-f', ...ids.split('\n'));
    });
    await docker('volume', 'rm', '-f', `${project}_redis-data`);
    await docker('network', 'rm', `${project}_default`).catch(() => {});
  }
});

async function startDev(imageEnv: Record<string, string>) {
  const project = `workshop-test-${process.pid}-${projects.length}`;
  projects.push(project);
  const [port, redisPort, smtpPort, webPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const mailUiUrl = `http://127.0.0.1:${webPort}`;
  const dev = spawnScript('src/cmd/dev.ts', {
    COMPOSE_PROJECT_NAME: project,
    PORT: String(port),
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_UI_URL: mailUiUrl,
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'jobs-docker-start-')), 'app.db'),
    UPLOADS_DIR: mkdtempSync(join(tmpdir(), 'jobs-docker-uploads-')),
    REDIS_DATA_DIR: mkdtempSync(join(tmpdir(), 'jobs-docker-redis-')),
    NODE_ENV: 'development',
    ADMIN_PASSWORD: 'docker-test-pw',
    MAIL_CATCHER: images.mailBackend,
    ...imageEnv,
  }, 'npm start');
  await dev.waitForOutput(BANNER_END, 90_000);
  return { dev, port, project, mailUiUrl };
}

/** The birthday flow: the API enqueues, the worker sends, the email lands in the catcher. */
async function birthdayEmailArrives(port: number, mailUiUrl: string, mailBackend: DockerImages['mailBackend']) {
  const res = await fetch(`http://127.0.0.1:${port}/api/dev/send-birthday/1`, { method: 'POST' });
  expect(res.status).toBe(202);
  const mail = await createInbox({ mailUiUrl, mailBackend }).waitFor(
    (m) => /birthday/i.test(m.subject),
    20_000,
  );
  expect(mail.to.length).toBe(1);
}

async function runningContainers(project: string): Promise<string[]> {
  const names = await docker('ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Label "com.docker.compose.service"}}');
  return names ? names.split('\n').sort() : [];
}


describe('npm start with a Docker engine and the images', () => {
  it('runs Redis and the mail catcher with Compose, serves the birthday flow, and stops them on Ctrl-C', async () => {
    const imageEnv: Record<string, string> = images.mailBackend === 'maildev'
      ? { REDIS_IMAGE: images.redis, MAILDEV_IMAGE: images.mail }
      : { REDIS_IMAGE: images.redis, MAILHOG_IMAGE: images.mail };
    const { dev, port, project, mailUiUrl } = await startDev(imageEnv);
    const output = dev.output();
    expect(output).toMatch(/^dev +│ Redis: starting the "redis" service with docker[ -]compose$/m);
    expect(output).toMatch(new RegExp(`^dev +│ Mail: starting the "${images.mailBackend}" service with docker[ -]compose$`, 'm'));
    expect(output).not.toContain('starting it locally');
    expect(await runningContainers(project)).toEqual([images.mailBackend, 'redis'].sort());

    await birthdayEmailArrives(port, mailUiUrl, images.mailBackend);

    expect(await interrupt(dev)).toBe(0);
    expect(await runningContainers(project)).toEqual([]);
  });
});

describe('npm start with a Docker engine that cannot pull the images', () => {
  it('starts the services locally, saying why in one line each, and serves the birthday flow', async () => {
    const { dev, port, project, mailUiUrl } = await startDev({
      REDIS_IMAGE: UNPULLABLE('redis'),
      MAILDEV_IMAGE: UNPULLABLE('maildev'),
      MAILHOG_IMAGE: UNPULLABLE('mailhog'),
    });
    const fallbacks = dev.output().split('\n').filter((line) => line.includes('Docker could not start it'));
    expect(fallbacks, dev.output()).toHaveLength(2);
    for (const [line, name] of [[fallbacks[0], 'Redis'], [fallbacks[1], 'Mail']] as const) {
      expect(line).toMatch(
        new RegExp(`^dev +│ ${name}: Docker could not start it \\(.*registry\\.invalid.*\\), starting it locally instead\\. To use containers, pull the images once while online: docker[ -]compose pull redis ${images.mailBackend}$`),
      );
    }
    expect(await runningContainers(project)).toEqual([]);

    // The local mail catcher is MailHog where MAILHOG_BIN or PATH names one, else MailDev,
    // whatever MAIL_CATCHER asked of Docker.
    const local = findMailHog() ? 'mailhog' : 'maildev';
    expect(dev.output()).toMatch(new RegExp(`^dev +│ Mail: running at smtp://127\\.0\\.0\\.1:\\d+ \\(${catcherName(local)}, `, 'm'));
    await birthdayEmailArrives(port, mailUiUrl, local);
    expect(await interrupt(dev)).toBe(0);
  });
});
