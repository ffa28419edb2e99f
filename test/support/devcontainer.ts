import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEVCONTAINER_DIR = join(ROOT, '.devcontainer');

/** The parts of .devcontainer/devcontainer.json the tests read. */
export interface DevContainer {
  dockerComposeFile: string[];
  service: string;
  runServices: string[];
  workspaceFolder: string;
  containerEnv: Record<string, string>;
  forwardPorts: (number | string)[];
  portsAttributes: Record<string, { label?: string }>;
  postCreateCommand: string;
}

/**
 * readDevContainer reads .devcontainer/devcontainer.json, which may hold
 * comments (TypeScript's parser for tsconfig.json reads them), and returns it
 * with its compose files as absolute paths, in the order Compose reads them.
 */
export function readDevContainer(): { config: DevContainer; composeFiles: string[] } {
  const path = join(DEVCONTAINER_DIR, 'devcontainer.json');
  const { config, error } = ts.parseConfigFileTextToJson(path, readFileSync(path, 'utf8'));
  if (error) throw new Error(`${path}: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  const devcontainer = config as DevContainer;
  // Listed relative to devcontainer.json.
  return { config: devcontainer, composeFiles: devcontainer.dockerComposeFile.map((file) => resolve(DEVCONTAINER_DIR, file)) };
}
