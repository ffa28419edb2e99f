// How the global setup picks between Docker and local services, with Docker
// stood in for: npm test covers each branch, on a machine with or without an
// engine. (test/docker/harness.docker.ts runs the same decisions against a real
// engine, with npm run test:docker.)
import { describe, expect, it, vi } from 'vitest';
import { DockerServicesError } from '../support/services/docker.ts';
import { startServices, type ServiceStarters } from '../support/services/global-setup.ts';
import type { Services } from '../support/services/services.ts';
import type { StartedServices } from '../support/services/started.ts';

function startedBy(backend: Services['backend']): StartedServices {
  const services = { backend, redisUrl: `redis://${backend}.invalid:6379` } as Services;
  return { services, description: `${backend} stand-in`, stop: async () => {} };
}

const dockerStarted = startedBy('docker');
const localStarted = startedBy('local');
const missingImages = new DockerServicesError('the images redis:8 are not here and could not be pulled (offline)', ['redis:8']);

/** A stand-in for Docker: whether an engine answers, and what starting the containers does. */
function starters(engine: 'answers' | 'absent', startDocker: () => Promise<StartedServices> = async () => dockerStarted) {
  return {
    dockerAvailable: vi.fn(async () => engine === 'answers'),
    startDockerServices: vi.fn(startDocker),
    startLocalServices: vi.fn(async () => localStarted),
    say: vi.fn<(line: string) => void>(),
  } satisfies ServiceStarters;
}

describe('startServices, TEST_SERVICES unset', () => {
  it('runs the services in Docker when an engine answers and can start them', async () => {
    const s = starters('answers');
    expect(await startServices(undefined, s)).toBe(dockerStarted);
    expect(s.startLocalServices).not.toHaveBeenCalled();
    expect(s.say).not.toHaveBeenCalled();
  });

  it('starts them locally, without a word, when no engine answers', async () => {
    const s = starters('absent');
    expect(await startServices(undefined, s)).toBe(localStarted);
    expect(s.startDockerServices).not.toHaveBeenCalled();
    expect(s.say).not.toHaveBeenCalled();
  });

  it('starts them locally when Docker answers but cannot run them, in one line that says why and how to fix it', async () => {
    const s = starters('answers', async () => Promise.reject(missingImages));
    expect(await startServices(undefined, s)).toBe(localStarted);
    expect(s.say).toHaveBeenCalledOnce();
    const line = s.say.mock.calls[0]![0];
    expect(line).not.toContain('\n');
    expect(line).toMatch(/^\[harness\] Docker answers, but .*, so the tests use local services\./);
    expect(line).toContain(missingImages.reason);
    expect(line).toContain(missingImages.fix);
  });

  it('throws an error that is not a DockerServicesError as it is, and starts nothing locally', async () => {
    const bug = new TypeError('a bug in the harness');
    const s = starters('answers', async () => Promise.reject(bug));
    await expect(startServices(undefined, s)).rejects.toBe(bug);
    expect(s.startLocalServices).not.toHaveBeenCalled();
  });

  it('counts an empty TEST_SERVICES as unset', async () => {
    const s = starters('answers', async () => Promise.reject(missingImages));
    expect(await startServices('', s)).toBe(localStarted);
  });
});

describe('startServices, TEST_SERVICES=local', () => {
  it('starts the services locally without asking Docker', async () => {
    const s = starters('answers');
    expect(await startServices('local', s)).toBe(localStarted);
    expect(s.dockerAvailable).not.toHaveBeenCalled();
    expect(s.startDockerServices).not.toHaveBeenCalled();
  });
});

describe('startServices, TEST_SERVICES=docker', () => {
  it('runs the services in Docker when it can', async () => {
    const s = starters('answers');
    expect(await startServices('docker', s)).toBe(dockerStarted);
  });

  it('fails when no engine answers', async () => {
    const s = starters('absent');
    await expect(startServices('docker', s)).rejects.toThrow('TEST_SERVICES=docker, but no Docker engine answers');
    expect(s.startLocalServices).not.toHaveBeenCalled();
  });

  it('fails when Docker cannot run them, naming the reason and the fix', async () => {
    const s = starters('answers', async () => Promise.reject(missingImages));
    const failure = startServices('docker', s);
    await expect(failure).rejects.toThrow(/^TEST_SERVICES=docker, but Docker answers and /);
    await expect(failure).rejects.toThrow(missingImages.reason);
    await expect(failure).rejects.toThrow(missingImages.fix);
    expect(s.startLocalServices).not.toHaveBeenCalled();
  });
});

describe('startServices, another TEST_SERVICES', () => {
  it('fails, naming the value and the ones it takes, and starts nothing', async () => {
    const s = starters('answers');
    await expect(startServices('podman', s)).rejects.toThrow('TEST_SERVICES must be "local" or "docker", not "podman"');
    expect(s.dockerAvailable).not.toHaveBeenCalled();
    expect(s.startLocalServices).not.toHaveBeenCalled();
  });
});
