// The type checker's own thread (see TypeCheckThread): TypeScript's work runs
// here, beside the tests, instead of after them on the main thread.
import { parentPort } from 'node:worker_threads';
import { TypeChecker, type TypeProblem } from './typecheck.ts';

/** A request: type-check these files. The answer echoes its id. */
export interface CheckRequest {
  id: number;
  files: string[];
}

export type CheckAnswer = { id: number; problems: TypeProblem[] } | { id: number; error: string };

const checkers = new Map<string, TypeChecker>();

parentPort?.on('message', ({ id, files }: CheckRequest) => {
  try {
    const key = files.join('\0');
    let checker = checkers.get(key);
    if (!checker) checkers.set(key, (checker = new TypeChecker(files)));
    parentPort!.postMessage({ id, problems: checker.check() } satisfies CheckAnswer);
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).stack ?? String(err) } satisfies CheckAnswer);
  }
});
