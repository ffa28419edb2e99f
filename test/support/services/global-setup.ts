import type { TestProject } from 'vitest/node';
import { DockerServicesError, dockerAvailable, startDockerServices } from './docker.ts';
import { startLocalServices } from './local.ts';
import { startRedisCluster } from './redis-cluster.ts';
import type { StartedServices } from './started.ts';

/**
 * Vitest global setup: boots Redis and a mail catcher once for the whole run,
 * in containers when a Docker engine answers and can run them, else locally
 * (redis-server + MailDev). TEST_SERVICES=local or =docker forces one; with
 * =docker, a Docker that cannot run them fails the run. TEST_REDIS=cluster
 * also starts a local Redis Cluster, where the suites that support it put
 * their queues. Tests read the addresses with `services()` from ./services.ts.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await startServices(process.env.TEST_SERVICES);
  console.log(`[harness] services: ${started.description}`);
  const withCluster = await addCluster(started, process.env.TEST_REDIS);
  project.provide('services', withCluster.services);
  return () => withCluster.stop();
}

/** addCluster starts a Redis Cluster beside the services when TEST_REDIS=cluster. */
async function addCluster(started: StartedServices, wanted: string | undefined): Promise<StartedServices> {
  if (!wanted) return started;
  if (wanted !== 'cluster') {
    await started.stop();
    throw new Error(`TEST_REDIS must be "cluster" or unset, not "${wanted}"`);
  }
  let cluster;
  try {
    cluster = await startRedisCluster();
  } catch (err) {
    await started.stop();
    throw err;
  }
  console.log(`[harness] TEST_REDIS=cluster: ${cluster.description}`);
  return {
    services: { ...started.services, redisClusterNodes: cluster.seeds },
    description: `${started.description}; ${cluster.description}`,
    async stop() {
      await Promise.allSettled([cluster.stop(), started.stop()]);
    },
  };
}

/** ServiceStarters are what startServices calls to look for Docker and start services; tests hand in stand-ins. */
export interface ServiceStarters {
  dockerAvailable: () => Promise<boolean>;
  startDockerServices: () => Promise<StartedServices>;
  startLocalServices: () => Promise<StartedServices>;
  /** Prints the one line that says why the tests use local services although Docker answers. */
  say: (line: string) => void;
}

const REAL_STARTERS: ServiceStarters = { dockerAvailable, startDockerServices, startLocalServices, say: console.log };

/**
 * startServices starts the services TEST_SERVICES asks for: "local" starts
 * them locally; unset (or empty), Docker runs them when an engine answers and
 * can, else they start locally, with one line that says why when Docker
 * answers but cannot run them; "docker" insists, and fails when Docker cannot.
 * Any other value, or an error that is not Docker's, is thrown.
 */
export async function startServices(wanted: string | undefined, starters: ServiceStarters = REAL_STARTERS): Promise<StartedServices> {
  if (wanted === 'local') return starters.startLocalServices();
  if (wanted && wanted !== 'docker') throw new Error(`TEST_SERVICES must be "local" or "docker", not "${wanted}"`);
  const insist = wanted === 'docker';
  if (!(await starters.dockerAvailable())) {
    if (insist) throw new Error('TEST_SERVICES=docker, but no Docker engine answers');
    return starters.startLocalServices();
  }
  try {
    return await starters.startDockerServices();
  } catch (err) {
    if (!(err instanceof DockerServicesError)) throw err;
    if (insist) throw new Error(`TEST_SERVICES=docker, but Docker answers and ${err.reason}. ${err.fix}`);
    starters.say(`[harness] Docker answers, but ${err.reason}, so the tests use local services. ${err.fix}`);
    return starters.startLocalServices();
  }
}
