import type { Db } from './database.ts';
import { statement } from './statements.ts';

/** User is a customer who gets the emails. `birthday` is 'YYYY-MM-DD', or null when not given. */
export interface User {
  id: number;
  email: string;
  name: string;
  birthday: string | null;
}

const COLUMNS = 'id, email, name, birthday';

/** UserRepo reads users. */
export class UserRepo {
  constructor(private readonly db: Db) {}

  /** findById returns the user, or undefined if there is none with that id. */
  findById(id: number): User | undefined {
    return statement<[number], User>(this.db, `SELECT ${COLUMNS} FROM users WHERE id = ?`).get(id);
  }

  /** all returns every user, by id. */
  all(): User[] {
    return statement<[], User>(this.db, `SELECT ${COLUMNS} FROM users ORDER BY id`).all();
  }
}
