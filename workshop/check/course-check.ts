/**
 * npm run course:check: proves the course, as CI runs it (see proveCourse in
 * ./prove.ts for the four phases).
 *
 * --static     the first phase alone, in a second or two: for authors, while writing.
 * --write-lock rewrites workshop/starters.lock.json from exercises/ and stops.
 */
import { writeFileSync } from 'node:fs';
import { EXERCISES } from '../manifest.ts';
import { currentLock, STARTERS_LOCK } from '../shared/starters.ts';
import { bold, colour, green, red } from '../cli/style.ts';
import { proveCourse, realDeps } from './prove.ts';

const started = Date.now();
const say = (text: string) => process.stdout.write(`${colour(text)}\n`);

if (process.argv.includes('--write-lock')) {
  writeFileSync(STARTERS_LOCK, `${JSON.stringify(currentLock(), null, 2)}\n`);
  say(`wrote ${STARTERS_LOCK}`);
  process.exit(0);
}

const deps = await realDeps(EXERCISES);
const problems = await proveCourse({ ...deps, say }, { onlyStatic: process.argv.includes('--static'), started });
const seconds = ((Date.now() - started) / 1000).toFixed(0);
if (problems.length === 0) {
  say(`\n${green(bold(`course:check passed: ${EXERCISES.length} exercises, in ${seconds} s`))}`);
  process.exit(0);
}
say(`\n${red(bold(`course:check found ${problems.length} problem${problems.length === 1 ? '' : 's'} (${seconds} s):`))}`);
for (const problem of problems) say(`${red('✗')} ${problem.where}: ${problem.what}`);
process.exit(1);
