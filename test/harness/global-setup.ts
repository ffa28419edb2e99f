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

export async function startServices(
  wanted: string | undefined,
  say: (line: string) => void = console.log,
): Promise<StartedServices> {
  if (wanted === 'local') return startLocalServices();
  if (wanted && wanted !== 'docker') throw new Error(`TEST_SERVICES must be "local" or "docker", not "${wanted}"`);
  // Unset, Docker is tried and the local services stand in for it; =docker insists.
  const insist = wanted === 'docker';
  if (!(await dockerAvailable())) {
    if (insist) throw new Error('TEST_SERVICES=docker, but no Docker engine answers');
    return startLocalServices();
  }
  try {
    return await startDockerServices();
  } catch (err) {
    if (!(err instanceof DockerServicesError)) throw err;
    if (insist) throw new Error(`TEST_SERVICES=docker, but Docker answers and ${err.reason}. ${err.fix}`);
    say(`[harness] Docker answers, but ${err.reason}, so the tests use local services. ${err.fix}`);
    return startLocalServices();
  }
}
