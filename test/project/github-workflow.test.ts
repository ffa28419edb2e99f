// The GitHub Actions workflow can only run on GitHub, so here it is checked:
// against the workflow schema (action-validator), and for what it must do.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORKFLOW = join(ROOT, '.github', 'workflows', 'ci.yml');
const VALIDATOR = join(ROOT, 'node_modules', '.bin', 'action-validator');

/** validate runs action-validator on a workflow file: its exit code and what it printed. */
async function validate(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(VALIDATOR, [file], { env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, output: `${failed.stdout}${failed.stderr}` };
  }
}

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}

interface Workflow {
  on: string[] | Record<string, unknown>;
  env?: Record<string, unknown>;
  jobs: Record<string, { env?: Record<string, unknown>; strategy?: { matrix?: { node?: unknown[] } }; steps: Step[] }>;
}

const text = readFileSync(WORKFLOW, 'utf8');
const workflow = parse(text) as Workflow;

describe('.github/workflows/ci.yml', () => {
  it('is a valid workflow', async () => {
    const { code, output } = await validate(WORKFLOW);
    expect(code, `action-validator found problems:\n${output}`).toBe(0);
  });

  it('runs on every push and pull request', () => {
    const events = Array.isArray(workflow.on) ? workflow.on : Object.keys(workflow.on);
    expect(events).toEqual(expect.arrayContaining(['push', 'pull_request']));
  });

  it("runs on the oldest Node.js in package.json's engines and on Node 24, with setup-node", () => {
    const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node as string;
    const oldest = semver.minVersion(engines)!.major;
    const [job] = Object.values(workflow.jobs);
    expect(job!.strategy?.matrix?.node).toEqual([oldest, 24]);
    const setupNode = job!.steps.find((step) => step.uses?.startsWith('actions/setup-node@'));
    expect(setupNode?.with?.['node-version']).toBe('${{ matrix.node }}');
  });

  it('installs with npm ci, then runs the tests and the course check', () => {
    const [job] = Object.values(workflow.jobs);
    const commands = job!.steps.map((step) => step.run?.trim()).filter((run) => run?.startsWith('npm '));
    expect(commands).toEqual(['npm ci', 'npm test', 'npm run course:check']);
  });

  it('leaves the harness free to use the Docker engine: no step sets TEST_SERVICES', () => {
    const [job] = Object.values(workflow.jobs);
    const envs = [workflow.env, job!.env, ...job!.steps.map((step) => step.env)];
    expect(envs.filter((env) => env && 'TEST_SERVICES' in env)).toEqual([]);
    expect(job!.steps.filter((step) => step.run?.includes('TEST_SERVICES'))).toEqual([]);
  });

  it('is checked by a validator that rejects a broken workflow', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'workflow-')), 'ci.yml');
    writeFileSync(broken, text.replace('runs-on:', 'runs_on:'));
    const { code, output } = await validate(broken);
    expect(code).toBe(1);
    expect(output).toContain("Additional property 'runs_on' is not allowed");
  });
});
