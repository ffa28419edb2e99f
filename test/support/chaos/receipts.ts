import type { Mail } from '../services/inbox.ts';

const RECEIPT_SUBJECT = /^Your receipt for order #(\d+)$/;

/** receiptKey names one order's receipt to one customer: `<order id> <email>`. */
export const receiptKey = (orderId: number, email: string) => `${orderId} ${email}`;

/**
 * receiptCounts counts the receipt emails in `mails` by order id and
 * recipient. Other emails are ignored: the mail catcher is shared.
 */
export function receiptCounts(mails: Mail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of mails) {
    const id = RECEIPT_SUBJECT.exec(mail.subject)?.[1];
    if (!id) continue;
    for (const to of mail.to) {
      const key = receiptKey(Number(id), to);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * arrivedSince keeps, of the receipts in `after`, those for `wanted` that were
 * not in `before`: the emails a scenario caused, not those of an earlier run
 * with the same order ids.
 */
export function arrivedSince(before: Map<string, number>, after: Map<string, number>, wanted: Set<string>): Map<string, number> {
  const fresh = new Map<string, number>();
  for (const [key, count] of after) {
    const added = count - (before.get(key) ?? 0);
    if (wanted.has(key) && added > 0) fresh.set(key, added);
  }
  return fresh;
}
