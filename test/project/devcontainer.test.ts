// The dev container can only be opened by an editor or a codespace, so here
// its files are checked for what a learner relies on: the app container beside
// docker-compose.yml's Redis and MailHog, the app pointed at them by service
// name, the workspace where the repository is mounted, the ports forwarded.
// test/docker/devcontainer-services.docker.ts starts those services for real.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_PORT, loadConfig } from '../../src/config.ts';
import { hostAndPort } from '../../src/dev/reachable.ts';
import { DEVCONTAINER_DIR, readDevContainer, ROOT } from '../support/devcontainer.ts';

interface ComposeFile {
  services: Record<string, { image?: string; ports?: string[]; volumes?: string[] }>;
}

const { config: devcontainer, composeFiles: composePaths } = readDevContainer();
// Compose reads the files in this order, later ones adding to earlier.
const composeFiles = composePaths.map((path) => parse(readFileSync(path, 'utf8')) as ComposeFile);
const services = Object.assign({}, ...composeFiles.map((file) => file.services)) as ComposeFile['services'];

/** The ports a service listens on inside its container: the right-hand side of each mapping that publishes one. */
function containerPorts(service: string): number[] {
  return (services[service]?.ports ?? []).map((mapping) => Number(mapping.split(':').at(-1)));
}

describe('.devcontainer/devcontainer.json', () => {
  it("adds its own service to the root docker-compose.yml's", () => {
    expect(composePaths).toEqual([join(ROOT, 'docker-compose.yml'), join(DEVCONTAINER_DIR, 'docker-compose.yml')]);
    for (const path of composePaths) expect(existsSync(path), path).toBe(true);
    expect(Object.keys(composeFiles[1]!.services)).toEqual([devcontainer.service]);
  });

  it('starts the app container with Redis and MailHog, and no other mail catcher', () => {
    expect(devcontainer.runServices.sort()).toEqual([devcontainer.service, 'mailhog', 'redis'].sort());
    for (const name of devcontainer.runServices) expect(services, name).toHaveProperty(name);
  });

  it("runs the oldest Node.js in package.json's engines", () => {
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;
    const oldest = semver.minVersion(engines)!.major;
    expect(services[devcontainer.service]?.image).toMatch(new RegExp(`^mcr\\.microsoft\\.com/devcontainers/javascript-node:\\d+-${oldest}-`));
  });

  it('opens the repository, where its docker-compose.yml mounts it', () => {
    // Compose reads the paths of every file from the first file's folder: "." is the repository.
    expect(services[devcontainer.service]?.volumes).toContain(`.:${devcontainer.workspaceFolder}:cached`);
  });

  it("points the app at Redis and MailHog by service name, on their containers' ports", () => {
    const config = loadConfig(devcontainer.containerEnv);
    const wanted = [[config.redisUrl, 'redis'], [config.smtpUrl, 'mailhog'], [config.mailUiUrl, 'mailhog']] as const;
    for (const [url, service] of wanted) {
      const { host, port } = hostAndPort(url);
      expect(host, url).toBe(service);
      expect(containerPorts(service), url).toContain(port);
    }
  });

  it("forwards the app's port and MailHog's inbox, each with a label", () => {
    const { host, port } = hostAndPort(loadConfig(devcontainer.containerEnv).mailUiUrl);
    const forwarded = [DEFAULT_PORT, `${host}:${port}`];
    expect(devcontainer.forwardPorts).toEqual(forwarded);
    for (const port of forwarded) expect(devcontainer.portsAttributes[String(port)]?.label, String(port)).toMatch(/\w/);
  });

  it('installs the dependencies once the container is made', () => {
    expect(devcontainer.postCreateCommand).toBe('npm ci');
  });
});
