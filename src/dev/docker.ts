import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COMPOSE_FILE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));

/**
 * dockerAnswers tells whether a Docker engine is running. `docker --version`
 * works with the CLI alone, so this asks the engine itself (`docker info`).
 */
export function dockerAnswers(timeoutMs = 3_000): Promise<boolean> {
  return succeeds('docker', ['info', '--format', '{{.ServerVersion}}'], timeoutMs);
}

/**
 * Compose is the command that runs the repo's docker-compose.yml: Docker
 * Compose v2 (`docker compose`, the plugin Docker Desktop ships) when it is
 * there, else v1 (`docker-compose`, which Debian packages).
 */
export interface Compose {
  /** `docker compose` or `docker-compose`, for messages. */
  name: string;
  /** Starts services in the background; `env` sets the variables the file reads. Rejects with compose's last line. */
  up(services: string[], env?: Record<string, string>): Promise<void>;
  /** Stops services; their data stays. */
  stop(services: string[]): Promise<void>;
}

/** findCompose returns the Compose that this machine has, or undefined when it has neither. */
export async function findCompose(): Promise<Compose | undefined> {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const [file, ...first] = command as [string, ...string[]];
    if (!(await succeeds(file, [...first, 'version'], 10_000))) continue;
    const run = (args: string[], env: Record<string, string> = {}) =>
      runQuietly(file, [...first, '-f', COMPOSE_FILE, ...args], env);
    return {
      name: command.join(' '),
      up: (services, env) => run(['up', '-d', ...services], env),
      stop: (services) => run(['stop', ...services]),
    };
  }
  return undefined;
}

function succeeds(file: string, args: string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs }, (err) => resolve(!err));
  });
}

/**
 * runQuietly keeps compose's progress lines (pulls, networks, volumes) to
 * itself, and on failure rejects with the last line it printed, which is
 * the reason: "…: no such host", "port is already allocated".
 */
function runQuietly(file: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const lines = output.split('\n').map((line) => line.replace(/^(ERROR|Error response from daemon):\s*/, '').trim());
      const reason = lines.filter(Boolean).at(-1) ?? `exit code ${code}`;
      reject(new Error(reason.slice(0, 300)));
    });
  });
}
