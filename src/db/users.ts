import type { Db } from './database.ts';
import { statement } from './statements.ts';

/** User is a customer who gets the emails. `birthday` is 'YYYY-MM-DD', or null when not given. */
export interface User {
  id: number;
  email: string;
  name: string;
  birthday: string | null;
}

/** NewUser is who signs up. The id is the database's to give. */
export type NewUser = Omit<User, 'id'>;

/**
 * EmailTakenError: a user with this email exists already. Two sign-ups with
 * the same email at the same moment end here too: the UNIQUE constraint on
 * users.email lets only one of them in.
 */
export class EmailTakenError extends Error {
  override name = 'EmailTakenError';

  constructor(readonly email: string) {
    super('a user with this email exists already');
  }
}

const COLUMNS = 'id, email, name, birthday';
// The queries' text is built once, not on each call: statement() looks it up on every call.
const BY_ID = `SELECT ${COLUMNS} FROM users WHERE id = ?`;
const BY_EMAIL = `SELECT ${COLUMNS} FROM users WHERE email = ?`;
const ALL = `SELECT ${COLUMNS} FROM users ORDER BY id`;

/** UserRepo creates and reads users. */
export class UserRepo {
  constructor(private readonly db: Db) {}

  /**
   * create saves a user and returns it with its new id. The email is stored
   * as given: callers normalise it first (the sign-up route does). It throws
   * an EmailTakenError when the email is taken, and then writes nothing. To
   * enqueue jobs for the user atomically, call it inside `db.transaction(...)`
   * together with `OutboxRepo.add`.
   */
  create({ email, name, birthday }: NewUser): User {
    try {
      const { lastInsertRowid } = statement(this.db, 'INSERT INTO users (email, name, birthday) VALUES (?, ?, ?)').run(email, name, birthday);
      return this.findById(Number(lastInsertRowid))!;
    } catch (err) {
      if (isEmailTaken(err)) throw new EmailTakenError(email);
      throw err;
    }
  }

  /** findById returns the user, or undefined if there is none with that id. */
  findById(id: number): User | undefined {
    return statement<[number], User>(this.db, BY_ID).get(id);
  }

  /** findByEmail returns the user with exactly this email, or undefined. */
  findByEmail(email: string): User | undefined {
    return statement<[string], User>(this.db, BY_EMAIL).get(email);
  }

  /** all returns every user, by id. */
  all(): User[] {
    return statement<[], User>(this.db, ALL).all();
  }
}

/** isEmailTaken: the insert broke the UNIQUE constraint on users.email (better-sqlite3's SqliteError). */
function isEmailTaken(err: unknown): boolean {
  const { code, message } = err as { code?: unknown; message?: unknown };
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes('users.email');
}
