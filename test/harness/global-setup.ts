import type { TestProject } from 'vitest/node';
import { dockerAvailable, startDockerServices } from './docker.ts';
import { startLocalServices } from './local.ts';
import type { StartedServices } from './started.ts';

/**
 * Vitest global setup: boots Redis and a mail catcher once for the whole run,
 * with Docker (Redis + MailHog) when an engine answers, else locally
 * (redis-server + MailDev). TEST_SERVICES=local or =docker forces one.
 * Tests read the addresses with `services()` from ./services.ts.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await start(process.env.TEST_SERVICES);
  console.log(`[harness] services: ${started.description}`);
  project.provide('services', started.services);
  return () => started.stop();
}

async function start(wanted: string | undefined): Promise<StartedServices> {
  switch (wanted) {
    case 'local':
      return startLocalServices();
    case 'docker':
      if (!(await dockerAvailable())) throw new Error('TEST_SERVICES=docker, but no Docker engine answers');
      return startDockerServices();
    case undefined:
    case '':
      return (await dockerAvailable()) ? startDockerServices() : startLocalServices();
    default:
      throw new Error(`TEST_SERVICES must be "local" or "docker", not "${wanted}"`);
  }
}
