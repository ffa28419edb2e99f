// `npm run diff N` (and d in the watch screen) shows the learner's files against
// the solution's. The solution's files are the finished app's, so they also
// hold what later exercises build: the diff must show this exercise's answer
// whole, and none of theirs.
import { describe, expect, it } from 'vitest';
import { codeSpans, looksLikeCode, SKIPPED } from '../../workshop/check/hints.ts';
import { answerLines, MIN_ANSWER_CHARS, squash } from '../../workshop/check/leaks.ts';
import { diffWithSolution, hideLaterCode } from '../../workshop/cli/files.ts';
import { plain } from '../../workshop/cli/style.ts';
import { EXERCISES } from '../../workshop/manifest.ts';

/** The solution's side of a diff, its + and context lines, squashed. */
function solutionSide(diff: string): string[] {
  return plain(diff)
    .split('\n')
    .filter((line) => /^[+ ]/.test(line) && !line.startsWith('+++'))
    .map((line) => squash(line.slice(1)));
}

/** theAnswer: the code of the exercise's last hint, which course:check holds to its solution, in pieces long enough to tell. */
function theAnswer(hint: string): string[] {
  return codeSpans(hint)
    .filter(looksLikeCode)
    .flatMap((span) => span.split(SKIPPED).map(squash))
    .filter((piece) => piece.length >= MIN_ANSWER_CHARS);
}

describe('the diff with the solution, on the untouched starters', () => {
  for (const exercise of EXERCISES) {
    const later = new Set(EXERCISES.filter((e) => e.number > exercise.number).flatMap((e) => answerLines(e).map(squash)));

    it(`exercise ${exercise.number}: shows the code of its last hint, and no line that a later exercise builds`, () => {
      const shown = solutionSide(diffWithSolution(exercise));
      const answer = theAnswer(exercise.hints.at(-1)!);
      expect(answer.length, 'the last hint holds code').toBeGreaterThan(0);
      for (const piece of answer) expect(shown.join(''), `the last hint's code: ${piece}`).toContain(piece);
      for (const line of shown) expect(later.has(line), `a later exercise's line: ${line}`).toBe(false);
    });
  }

  it('names the exercises that build what it hides', () => {
    expect(plain(diffWithSolution(EXERCISES[2]!))).toContain('+ ⋯ exercises 08 and 10 build this: hidden until then');
    expect(plain(diffWithSolution(EXERCISES[8]!))).toContain('+ ⋯ exercise 10 builds this: hidden until then');
  });
});

describe('hideLaterCode', () => {
  const later = new Map([[squash('const user = this.deps.users.findById(user_id);'), 10]]);

  it('replaces a stretch of later code with one placeholder, with the comments and short lines after it', () => {
    const lines = [' context', '+  const mine = await this.queue.add(task);', '+  const user = this.deps.users.findById(user_id);', '+  // why it is so', '+  }', ' }'];
    expect(hideLaterCode(lines, later)).toEqual([' context', '+  const mine = await this.queue.add(task);', { builtIn: [10] }, ' }']);
  });

  it('leaves a hunk with no later code as it is, and never hides the learner side', () => {
    const lines = ['-  const user = this.deps.users.findById(user_id);', '+  return job;'];
    expect(hideLaterCode(lines, later)).toEqual(lines);
  });
});
