import { TODO_NOT_DONE } from '../../../workshop/shared/verdict.ts';

/**
 * failOnServerError fails the check with the error behind a 500. The answer
 * hides it, as it should, and the app logs it; in an exercise it is most
 * often the learner's own code, so the check shows it, with where it was
 * thrown. A gap the starter leaves ("TODO(3) is not done yet: …") shows as
 * it is, like one thrown in the check itself.
 */
export function failOnServerError(request: string, answer: { status: number; thrown?: Error }): void {
  const { thrown } = answer;
  if (answer.status !== 500 || !thrown) return;
  if (TODO_NOT_DONE.test(thrown.message)) throw thrown;
  const shown = new Error(`${request} answered 500. Behind it, in the app's log: ${thrown.name}: ${thrown.message}`);
  // Where it was thrown, then where the check is: the verdict shows both.
  shown.stack = [`Error: ${shown.message}`, framesOf(thrown), framesOf(shown)].filter(Boolean).join('\n');
  throw shown;
}

/** framesOf is an error's stack without its first lines, the message. */
function framesOf(err: Error): string {
  return (err.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}
