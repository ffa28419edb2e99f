// The inbox in the terminal: `npm run inbox`. Lists the latest emails that the
// mail catcher at MAIL_UI_URL holds (MailHog or MailDev, whichever answers):
// when, to whom, the subject and the first lines of the text.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { createInbox, detectMailCatcher, type Mail } from '../dev/inbox.ts';
import { catcherName } from '../dev/mail-catcher-apis.ts';

const USAGE = `usage: npm run inbox [-- --limit N] [-- --to ADDRESS]
  --limit N     how many of the latest emails to show (default 10, at most 200)
  --to ADDRESS  only the emails to this address`;
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 200;
/** TEXT_LINES: how many lines of each email's text to show. */
const TEXT_LINES = 3;
/** Control characters (but newlines) in an email must not drive the terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let options: { limit: number; to?: string };
try {
  const { values } = parseArgs({ options: { limit: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new Error(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got "${values.limit}"`);
  options = { limit, to: values.to?.toLowerCase() };
} catch (err) {
  fail(`${(err as Error).message}\n${USAGE}`, 2);
}

const { mailUiUrl } = loadConfig();
const backend = await detectMailCatcher(mailUiUrl);
if (!backend) {
  fail(
    `No mail catcher answers at MAIL_UI_URL=${mailUiUrl}.\n` +
      'Start one with `npm start`, or keep `npm run exercise` open in another terminal: each runs one on that address.',
  );
}

let wanted: Mail[];
try {
  const inbox = createInbox({ mailUiUrl, mailBackend: backend });
  wanted = options.to ? await inbox.listTo(options.to) : await inbox.list();
} catch (err) {
  fail(`Could not read the inbox at ${mailUiUrl}: ${(err as Error).message}`);
}

const shown = wanted.slice(-options.limit);
const name = catcherName(backend);
const whose = options.to ? ` to ${options.to}` : '';
const head = `Inbox at ${mailUiUrl} (${name}): ${wanted.length} email${wanted.length === 1 ? '' : 's'}${whose}`;
process.stdout.write(`${clean(head)}${shown.length < wanted.length ? `, the latest ${shown.length} below` : ''}${shown.length > 1 ? ', newest last' : ''}.\n`);
for (const mail of shown) process.stdout.write(`\n${formatMail(mail)}\n`);

/** formatMail shows one email: time and recipients, then the subject and the first lines of its text, indented. */
function formatMail(mail: Mail): string {
  const width = Math.max(40, (process.stdout.columns || 100) - 12);
  const time = mail.receivedAt ? mail.receivedAt.toTimeString().slice(0, 8) : '--:--:--';
  const text = mail.text || mail.html.replace(/<[^>]*>/g, ' ');
  const lines = text
    .split('\n')
    .map((line) => clean(line).replace(/[ \t]+/g, ' ').trim())
    .filter(Boolean);
  const first = lines.slice(0, TEXT_LINES).map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
  if (lines.length > TEXT_LINES) first.push('…');
  return [`${time}  to ${clean(mail.to.join(', ') || '(nobody)')}`, `          ${clean(mail.subject) || '(no subject)'}`, ...first.map((line) => `          ${line}`)].join('\n');
}

function clean(text: string): string {
  return text.replace(CONTROL, '');
}
