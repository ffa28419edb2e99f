/**
 * The course: every exercise, in the lesson's order. `npm run exercise`,
 * `hint`, `solution`, `reset`, `diff` and `course:check` all read this list.
 *
 * An exercise folder is laid over `src/`: `exercises/03-first-handler/jobs/mux.ts`
 * takes the place of `src/jobs/mux.ts` when the exercise runs, and every other
 * file comes from `src/`. `solutions/` mirrors `exercises/` file for file, and a
 * solution file is the `src/` file it stands for, byte for byte.
 */

/** A process of the app that a learner can run with their own files. */
export type ProcessName = 'api' | 'worker' | 'scheduler' | 'jobs';

export interface Exercise {
  /** The N of `npm run exercise N`. */
  number: number;
  /** The folder under exercises/ and solutions/, e.g. `03-first-handler`. */
  slug: string;
  title: string;
  /** What the learner builds, in one line, for the progress list. */
  summary: string;
  /** The files the learner edits, as paths under src/ that they stand in for. */
  files: string[];
  /** Files that only the exercise has (no src/ twin), such as a prediction to fill in. */
  ownFiles?: string[];
  /** The processes its README runs with `node --import tsx workshop/run.ts <process> <N>`. */
  processes?: ProcessName[];
  /** The WORKSHOP.md heading anchor of the chapter it belongs to. */
  chapter: string;
  /** Progressive hints: questions first, then more of the answer. */
  hints: string[];
  /**
   * Phrases that answer a "predict first" question of this exercise. Like its
   * answer lines, they may not appear before it (workshop/check/leaks.ts).
   */
  spoilers?: RegExp[];
}

export const EXERCISES: readonly Exercise[] = [
  {
    number: 1,
    slug: '01-enqueue-now',
    title: 'Enqueue now',
    summary: 'JobsClient.enqueue puts a task and its payload on a queue',
    files: ['jobs/client.ts'],
    chapter: '3-the-client-enqueue-now-or-later',
    hints: [
      'Start with TODO(2), as the README does. Where does a job go? `this.queue(queueName)` is a BullMQ `Queue`: what does its `add(name, data, opts)` take, and what does it resolve to?',
      "TODO(2): the worker picks the handler by the job's name. Which of `task` and `payload` is the name, and which the data? The options are `this.jobOptions(opts)` and one more field, which BullMQ calls `delay`. `add()` resolves to a `Job`, and `job.id` is its id.",
      'TODO(1): `checkPayload(task, payload)` gives `{ ok: false, reason }` for a payload that does not fit: throw an `InvalidPayloadError` with that reason, before `add()`. When it fits, its `data` is what goes on the queue, in place of `payload`.',
      'TODO(2): `const options = this.jobOptions(opts); if (delay > 0) options.delay = delay;` (a copy, `{ ...options, delay }`, works too), then `const job = await this.queue(queueName).add(task, checked.data, options);` then `return { id: job.id!, queue: queueName };` (until TODO(1) is done, `payload` in place of `checked.data`). TODO(1): `const checked = checkPayload(task, payload); if (!checked.ok) throw new InvalidPayloadError(checked.reason);`',
    ],
  },
  {
    number: 2,
    slug: '02-enqueue-later',
    title: 'Enqueue later',
    summary: 'enqueueIn: "send a reminder in 24 h", due at the right time',
    files: ['jobs/client.ts'],
    chapter: '3-the-client-enqueue-now-or-later',
    hints: [
      'TODO(1): `enqueue()` already goes through `add()`. What is the last argument of `add()`, and what should `enqueueIn()` pass there?',
      'TODO(2): which delays can nobody wait? `Number.isFinite(x)` is false for NaN and for ±Infinity; and a negative number? Refuse them before `add()`, so that nothing reaches Redis, with a `RangeError` whose message holds the value.',
      'TODO(2): ``if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delay must be 0 or more ms, got ${delayMs}`);`` TODO(1): `return this.add(task, payload, opts, delayMs);`',
    ],
  },
  {
    number: 3,
    slug: '03-first-handler',
    title: 'A handler',
    summary: 'send_welcome through the mail service; throw to retry; a bad payload is dead at once',
    files: ['jobs/handlers.ts', 'jobs/mux.ts'],
    chapter: '4-handlers-one-function-per-task',
    hints: [
      'TODO(1): how does the worker know which function runs a `send_welcome` job? Look at the `mux.handle(...)` lines in `register(mux)`: which task is missing?',
      'TODO(2): `welcomeEmail({ name })` gives `{ subject, html, text }`, and `this.deps.mailer.send()` wants those and `to`. It returns a promise: what happens to the job if `sendWelcome` resolves before that promise rejects?',
      'TODO(3) and TODO(4), in `ServeMux.process`: which error class, already imported from `bullmq`, makes BullMQ skip the remaining attempts? `checkPayload(task, job.data)` gives `{ ok: false, reason }` or `{ ok: true, data }`: throw with the reason, or hand the handler the data in place of `job.data`.',
      'TODO(1): `mux.handle(\'send_welcome\', (p) => this.sendWelcome(p));` TODO(2): `await this.deps.mailer.send({ to, ...welcomeEmail({ name }) });` TODO(3): ``if (!handler) throw new UnrecoverableError(`no handler for task "${job.name}"`);`` TODO(4): `const checked = checkPayload(task, job.data); if (!checked.ok) throw new UnrecoverableError(checked.reason);` then `await handler(checked.data, {`…',
    ],
  },
  {
    number: 4,
    slug: '04-worker-process',
    title: 'The worker process',
    summary: 'your own worker: 10 slots, queues weighted 6/3/1, drains on Ctrl-C',
    files: ['cmd/worker.ts'],
    processes: ['worker'],
    chapter: '5-the-worker-process',
    hints: [
      'TODO(1): the lesson gives `asynq.NewServer` two settings, `Concurrency` and `Queues`. Where does `loadConfig()` keep `WORKER_CONCURRENCY`, and which queues does `{ default: 1 }` leave out?',
      'TODO(2): `Handlers` takes its services in one object. Which fields does `HandlerDeps` in `src/jobs/handlers.ts` list, and which of them are already built above the mux?',
      'TODO(3): on Ctrl-C, what has to stop first: the server, or the mailer and database its running jobs use? `onShutdown(log, stop)` from `./shutdown.ts` runs `stop` on SIGINT and SIGTERM, then exits 0.',
      'TODO(1): `concurrency: config.worker.concurrency,` then `queues: { critical: 6, default: 3, low: 1 },` TODO(2): `new Handlers({ mailer, uploads, users: new UserRepo(db), orders: new OrderRepo(db), digestTo: config.digestTo, }).register(mux);` TODO(3): `onShutdown(log, async () => { await server.shutdown(); await client.close(); mailer.close(); db.close(); });`',
    ],
  },
  {
    number: 5,
    slug: '05-cron-once',
    title: 'Cron, exactly once',
    summary: "the lesson's two schedules, RUN_SCHEDULER, and two schedulers that still fire once",
    files: ['jobs/cron.ts', 'cmd/worker.ts'],
    processes: ['scheduler', 'worker', 'jobs'],
    chapter: '6-cron-and-the-double-fire-trap',
    hints: [
      'TODO(1): a cron pattern has five fields: minute, hour, day of the month, month, day of the week. What goes in the minute and hour fields for "every day at 2:00", and for "every hour, on the hour"?',
      'TODO(2): two processes both call `register(\'0 * * * *\', \'cleanup_uploads\', {})`. With the id `${task}@${hostname()}:${process.pid}`, how many entries does Redis end up with? Which part of that id is the same in both processes?',
      'TODO(3): `loadConfig()` turns `RUN_SCHEDULER=true` into `config.runScheduler`. Which two lines at the end of the worker should run only when it is true?',
      'TODO(1): `await scheduler.register(\'0 2 * * *\', \'nightly_digest\', {});` and `await scheduler.register(\'0 * * * *\', \'cleanup_uploads\', {});` TODO(2): `const id = task;` (and drop the `hostname` import). TODO(3): `if (config.runScheduler) { await registerCron(new Scheduler(client)); log.info(\'cron schedules registered (RUN_SCHEDULER=true)\'); }`',
    ],
  },
  {
    number: 6,
    slug: '06-jobs-from-a-service',
    title: 'Jobs from a service',
    summary: 'an order enqueues a receipt and an inventory update now, a review request in 7 days',
    files: ['services/orders.ts'],
    processes: ['api', 'worker', 'jobs'],
    chapter: '7-calling-jobs-from-a-service',
    hints: [
      '`this.jobs` has the same two methods as the `JobsClient` you built in exercises 1 and 2. Which one runs a task now, and which one runs it later?',
      'What does a handler need to find the order? Look at `sendReceipt` in `src/jobs/handlers.ts`: the payload is only `{ order_id }`, and `order` is right above the gaps.',
      'The review request waits 7 days: `enqueueIn(task, payload, delayMs)` takes milliseconds, and `REVIEW_REQUEST_DELAY_MS` at the top of the file is exactly 7 days of them. No `await`: the writer is synchronous.',
      '`this.jobs.enqueue(\'send_receipt\', { order_id: order.id });`, the same with `\'update_inventory\'`, then `this.jobs.enqueueIn(\'ask_for_review\', { order_id: order.id }, REVIEW_REQUEST_DELAY_MS);`',
    ],
  },
  {
    number: 7,
    slug: '07-dead-jobs',
    title: 'Dead jobs and the admin page',
    summary: 'find a dead job, read its payload and error, re-queue it: in code and on the page',
    files: ['jobs/inspector.ts', 'api/routes/admin.ts'],
    processes: ['api', 'worker', 'jobs'],
    chapter: '8-the-jobs-admin-page',
    hints: [
      'Where does BullMQ keep a job that used up its attempts? `counts()` above says which state is `dead`, and the `Queue` has a getter for each state. Do its ranges include their end?',
      'TODO(2): the BullMQ `Job` already holds it all: `data`, `failedReason`, `stacktrace`, `attemptsMade`, `finishedOn` (epoch ms). Which is the payload, and which the time of death?',
      'TODO(3): `deadJob()` shows how to tell a dead job from the rest. What does `job.retry(\'failed\')` keep that a fresh start should not? Look at its options. TODO(4)/(5): check `admin.password` before anything else, then let Hono\'s `basicAuth` do the login.',
      'TODO(1): `const jobs = await this.client.queue(queue).getFailed(0, limit - 1); return jobs.filter((job): job is Job => Boolean(job)).map((job) => toDeadJob(queue, job));` TODO(3): `if (!job || !(await job.isFailed())) return false; await job.retry(\'failed\', { resetAttemptsMade: true, resetAttemptsStarted: true }); return true;` TODO(4)/(5): `if (!admin.password) { return errorResponse(c, 401, \'the admin page is locked: set ADMIN_PASSWORD (and optionally ADMIN_USER) to open it\'); } const invalidUserMessage = { error: \'log in with ADMIN_USER and ADMIN_PASSWORD\' }; return basicAuth({ username: admin.user, password: admin.password, realm: \'jobs admin\', invalidUserMessage })(c, next);`',
    ],
  },
  {
    number: 8,
    slug: '08-modify-the-battery',
    title: 'Modify the battery',
    summary: 'a new task end to end, on its own queue, with its own retry policy; more concurrency',
    files: ['jobs/tasks.ts', 'jobs/handlers.ts', 'services/invoices.ts', 'config.ts'],
    processes: ['api', 'worker'],
    chapter: '9-modifying-the-battery',
    hints: [
      'TODO(1) and TODO(2): `send_receipt` also takes an order id and has a handler. How is its payload defined in `tasks.ts`, and how is it registered in `register(mux)`?',
      'TODO(2): `this.#orderWithUser(order_id)` gives `{ order, user }`. What do `renderInvoice` and `invoiceFileName` take, and what does `this.deps.uploads.write(name, data)` want as its data?',
      'TODO(3): which two options of `enqueue` pick a job\'s queue and its number of retries? TODO(4): how do `retryBaseDelayMs` and `shutdownTimeoutMs`, just below, read their variables?',
      'TODO(1): `generate_invoice: z.object({ order_id: z.number().int().positive() }),` TODO(2): `mux.handle(\'generate_invoice\', (p) => this.generateInvoice(p));` and `const { order, user } = this.#orderWithUser(order_id); const invoice = renderInvoice({ order, customer: user }); await this.deps.uploads.write(invoiceFileName(order.id), Buffer.from(invoice));` TODO(3): `return this.jobs.enqueue(\'generate_invoice\', { order_id: orderId }, { queue: \'low\', maxRetry: INVOICE_MAX_RETRY });` TODO(4): `concurrency: parseCount(\'WORKER_CONCURRENCY\', env.WORKER_CONCURRENCY, DEFAULT_CONCURRENCY),`',
    ],
  },
  {
    number: 9,
    slug: '09-quick-check',
    title: 'Quick check: storage is down',
    summary: 'predict, then tell an outage (retry) from an error no retry fixes (dead at once)',
    files: ['jobs/handlers.ts'],
    ownFiles: ['prediction.ts'],
    processes: ['worker', 'jobs'],
    chapter: '10-quick-check-storage-is-down',
    // The answers to prediction.ts: how many runs, the first wait, the whole wait.
    spoilers: [/\b(of|are) 26\b/, /\b26 (times|runs|attempts|tries)\b/i, /\b0\.5 ?(to|and|–|-) ?1 ?s\b/, /\b1\.4 ?(to|and|–|-) ?2\.9\b/, /\btwo days\b/i],
    hints: [
      'TODO(1): guess first, then let the check correct you; each wrong answer fails with the right one and why. For the handler: of the errors `uploads.read()` can throw (the table in the README), which one could a retry fix?',
      'Only `StorageUnavailableError` is a passing failure: throw it as it is. `ENOENT` (a missing file in a folder that is there) and `InvalidUploadNameError` never get better, and neither does a file sharp cannot read: those deserve `UnrecoverableError`.',
      'TODO(2): the catch in `#readUpload` ends by throwing; which error should it throw so that the job is retried? TODO(3): one `if` before it tests both `err instanceof InvalidUploadNameError` and the `ENOENT` code, and throws an `UnrecoverableError` whose message names `name`. TODO(4): the catch around `sharp` does the same with `upload`, and keeps sharp\'s own message after yours.',
      'TODO(2) and TODO(3), in `#readUpload`: ``if (err instanceof InvalidUploadNameError || (err as NodeJS.ErrnoException).code === \'ENOENT\') { throw new UnrecoverableError(`upload "${name}" does not exist`); } … throw err;`` TODO(4): ``throw new UnrecoverableError(`upload "${upload}" is not an image: ${(err as Error).message}`);`` TODO(1), if the check has not told you yet: `runsAtMost: 26` (the first run and 25 retries), `firstRetryAfterSeconds: [0.5, 1]`, `allRetriesTakeDays: [1.4, 2.9]`, `endsIn: \'failed\'`.',
    ],
  },
  {
    number: 10,
    slug: '10-try-it',
    title: 'Try it: the birthday email',
    summary: "the lesson's six steps: task, handler, endpoint, worker, inbox, a retry on purpose",
    files: ['jobs/tasks.ts', 'jobs/handlers.ts', 'api/routes/dev.ts'],
    processes: ['api', 'worker'],
    chapter: '11-try-it-your-first-custom-job',
    hints: [
      'Step 1: what does the handler need, to know whom to write to? `send_receipt` in `tasks.ts` takes an id: which zod schema makes a positive whole number?',
      'Step 2 is two places in `handlers.ts`: a method that loads the user with `this.deps.users.findById(user_id)` and sends with `this.deps.mailer.send({ to, ...email })`, and a line in `register(mux)`. Which error makes a job dead at once, and which errors should you leave alone?',
      'Step 3: `POST /api/orders/:id/invoice` in `src/api/routes/orders.ts` has the shape: check the param with `/^\\d+$/` (400), answer 404 when `users.findById(userId)` finds nobody, then enqueue inside a `try`: its job\'s `id` and `queue` go into the 202 answer, and the `catch` answers 503 with `errorResponse` when `isUnavailable(err)` says Redis cannot be reached, and rethrows anything else (a bug: `app.onError` answers 500).',
      'TODO(1): `send_birthday_email: z.object({ user_id: z.number().int().positive() }),` TODO(2): `mux.handle(\'send_birthday_email\', (p) => this.sendBirthdayEmail(p));` and in the method ``const user = this.deps.users.findById(user_id); if (!user) throw new UnrecoverableError(`user ${user_id} does not exist`); await this.deps.mailer.send({ to: user.email, ...birthdayEmail({ name: user.name }) });`` TODO(3): `const job = await jobs.enqueue(\'send_birthday_email\', { user_id: userId });`',
    ],
  },
  {
    number: 11,
    slug: '11-outbox',
    title: 'Beyond the lesson: the outbox',
    summary: 'an order whose jobs survive a Redis outage: sent at least once, one job per outbox row',
    files: ['jobs/relay-pass.ts'],
    processes: ['api', 'worker'],
    chapter: '12-beyond-the-lesson-the-outbox',
    hints: [
      'TODO(1): with Redis down, `sendBatch` throws. What does the `.catch(...)` turn that error into, and which rows does `outbox.markAllSent` mark next? Where must `markAllSent` go, so that it runs only once `sendBatch` has resolved?',
      'TODO(1): declare `batch` before a `try { … } catch (err) { … }` around the `await`. In the catch, `outbox.markFailed(rows[0]!.id, error)` counts a failed try and keeps every row pending, and returning `{ sent: 0, dead: [], error }` ends the pass, which `OutboxRelay` turns into one warning and another try in a second. TODO(2): how long is left between `now()` and `row.runAt`, and what if that is below 0?',
      'TODO(3): an `OutboxJob` has a `jobId`. What never changes for a row, and is not a bare number (BullMQ keeps those for its own ids)?',
      'TODO(2) and TODO(3): ``const jobs = rows.map((row) => ({ row, delay: Math.max(0, row.runAt - now()), jobId: `outbox-${row.id}` }));`` TODO(1): `let batch: SentBatch; try { batch = await sendBatch(client, jobs); } catch (err) { const error = err instanceof Error ? err.message : String(err); outbox.markFailed(rows[0]!.id, error); return { sent: 0, dead: [], error }; }` then `outbox.markAllSent(batch.sent);` and the rest as it is.',
    ],
  },
];
