// .devcontainer/devcontainer.json against the Dev Container spec's published
// JSON schema (devContainer.base.schema.json, in github.com/devcontainers/spec).
// No npm package ships that schema and this repository does not copy it, so it
// is read from DEVCONTAINER_SCHEMA: CI sets it where the machine keeps a copy,
// and the GitHub workflow downloads it. Without it, this file says so and
// checks only that the validator itself works.
import { existsSync, readFileSync } from 'node:fs';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { readDevContainer } from '../support/devcontainer.ts';

const schemaPath = process.env.DEVCONTAINER_SCHEMA;

function validatorFor(schema: object) {
  // Not strict: the schema also holds keywords for editors (allowComments,
  // markdownDescription, defaultSnippets…), which validation ignores.
  const ajv = new Ajv2019.default({ allErrors: true, strict: false, allowUnionTypes: true });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  return (config: unknown) => (validate(config) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`));
}

describe('devcontainer.json against the published schema', () => {
  if (schemaPath) {
    it(`is valid against ${schemaPath}`, () => {
      expect(existsSync(schemaPath), `DEVCONTAINER_SCHEMA=${schemaPath} names no file`).toBe(true);
      const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as { $schema?: string };
      expect(schema.$schema).toMatch(/draft\/2019-09/);
      const problems = validatorFor(schema);
      expect(problems(readDevContainer().config)).toEqual([]);
      // The same schema refuses what a typo would make of it.
      expect(problems({ ...readDevContainer().config, forwardPorts: '3000' }).join('\n')).toMatch(/forwardPorts/);
    });
  } else {
    it('needs DEVCONTAINER_SCHEMA, which CI and the GitHub workflow set; meanwhile the validator refuses a broken file', () => {
      // A small schema in the published one's dialect, so the setup above is exercised.
      const problems = validatorFor({
        $schema: 'https://json-schema.org/draft/2019-09/schema',
        allowComments: true,
        type: 'object',
        properties: { forwardPorts: { type: 'array', items: { type: ['integer', 'string'] } }, service: { type: 'string' } },
      });
      expect(problems(readDevContainer().config)).toEqual([]);
      expect(problems({ forwardPorts: '3000' }).join('\n')).toMatch(/forwardPorts/);
    });
  }
});
