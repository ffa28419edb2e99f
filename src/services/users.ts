import type { Transaction } from 'better-sqlite3';
import type { Db } from '../db/database.ts';
import type { NewUser, User, UserRepo } from '../db/users.ts';
import type { OutboxWriter } from '../jobs/outbox.ts';

/**
 * UserService signs customers up. signUp() saves the user and its send_welcome
 * job in one transaction, then asks the relay to send the job on, as
 * OrderService does with an order's jobs. It never waits for Redis and never
 * fails because of it: if Redis is down the welcome email waits in the outbox.
 */
export class UserService {
  // Made once: each db.transaction() call builds its wrapper functions anew.
  readonly #signUp: Transaction<(input: NewUser) => User>;

  constructor(
    db: Db,
    users: UserRepo,
    jobs: OutboxWriter,
    private readonly onJobsWritten: () => void,
  ) {
    this.#signUp = db.transaction((input: NewUser) => {
      const user = users.create(input);
      // The lesson's payload: who to write to, and the name to greet.
      jobs.enqueue('send_welcome', { to: user.email, name: user.name });
      return user;
    });
  }

  /**
   * signUp creates the user and writes its welcome email to the outbox, both
   * or neither. It throws an EmailTakenError when the email is taken. The
   * input must be valid already (the sign-up route checks and normalises it).
   */
  signUp(input: NewUser): User {
    // IMMEDIATE takes the write lock at BEGIN, so a write from another process
    // (the worker, a second API) is waited for (busy_timeout), never met mid-way.
    const user = this.#signUp.immediate(input);
    this.onJobsWritten();
    return user;
  }
}
