import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dockerImages } from './services/docker.ts';

const run = promisify(execFile);

/** Runs the docker CLI and returns what it printed. */
export async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { timeout: 60_000 })).stdout.trim();
}

/**
 * The images the suite runs, as the harness reads them (TEST_REDIS_IMAGE,
 * TEST_MAIL_BACKEND, TEST_MAIL_IMAGE). Throws, saying how to get them, when
 * the engine does not answer or lacks one: this suite is for a machine with both.
 */
export async function requireEngineAndImages() {
  try {
    await docker('info', '--format', '{{.ServerVersion}}');
  } catch {
    throw new Error('test:docker needs a running Docker engine (.ci/run installs and starts one).');
  }
  const images = dockerImages();
  for (const image of [images.redis, images.mail]) {
    await docker('image', 'inspect', image).catch(() => {
      throw new Error(`test:docker needs the image ${image}: pull it, or build it with bash .ci/images/build.sh`);
    });
  }
  return images;
}

/** An image name that no registry can serve: the .invalid domain never resolves. */
export const UNPULLABLE = (name: string) => `registry.invalid/workshop/${name}:none`;
