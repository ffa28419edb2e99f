import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const COMPOSE_FILE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));

/**
 * dockerAnswers tells whether a Docker engine is running. `docker --version`
 * works with the CLI alone, so this asks the engine itself (`docker info`).
 */
export function dockerAnswers(timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: timeoutMs }, (err) => resolve(!err));
  });
}

/**
 * composeUp starts services of the repo's docker-compose.yml in the background.
 * `env` sets the variables the file reads (REDIS_PORT, SMTP_PORT, MAIL_UI_PORT).
 */
export function composeUp(services: string[], env: Record<string, string> = {}): Promise<void> {
  return compose(['up', '-d', ...services], env);
}

/** composeStop stops services of the repo's docker-compose.yml; their data stays. */
export function composeStop(services: string[]): Promise<void> {
  return compose(['stop', ...services]);
}

function compose(args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['compose', '-f', COMPOSE_FILE, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`docker compose ${args.join(' ')} failed (exit ${code})`)),
    );
  });
}
