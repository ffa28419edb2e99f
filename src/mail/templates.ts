import { html, type SafeHtml } from './escape.ts';

/**
 * Email is a rendered message: a plain-text part for clients that show no
 * HTML, and an HTML part in which all user data is escaped.
 */
export interface Email {
  subject: string;
  html: string;
  text: string;
}

/** ReceiptOrder is the part of an order that a receipt shows. */
export interface ReceiptOrder {
  id: number;
  sku: string;
  quantity: number;
  totalCents: number;
}

/** SHOP_NAME signs every email. */
export const SHOP_NAME = 'Workshop Shop';

/** welcomeEmail greets a user who has just signed up (task send_welcome). */
export function welcomeEmail({ name }: { name: string }): Email {
  return {
    subject: `Welcome, ${name}!`,
    html: page(html`<h1>Welcome, ${name}!</h1>
<p>Thanks for signing up. We're glad you're here.</p>`),
    text: `Welcome, ${name}!\n\nThanks for signing up. We're glad you're here.\n\n${SHOP_NAME}`,
  };
}

/** birthdayEmail wishes a user a happy birthday (task send_birthday_email). */
export function birthdayEmail({ name }: { name: string }): Email {
  return {
    subject: `Happy birthday, ${name}!`,
    html: page(html`<h1>Happy birthday, ${name}!</h1>
<p>Everyone at ${SHOP_NAME} wishes you a wonderful day.</p>`),
    text: `Happy birthday, ${name}!\n\nEveryone at ${SHOP_NAME} wishes you a wonderful day.`,
  };
}

/** receiptEmail confirms an order and what it cost (task send_receipt). */
export function receiptEmail({ name, order }: { name: string; order: ReceiptOrder }): Email {
  const total = formatCents(order.totalCents);
  return {
    subject: `Your receipt for order #${order.id}`,
    html: page(html`<h1>Thanks for your order, ${name}!</h1>
<table>
  <tr><th align="left">Order</th><td>#${order.id}</td></tr>
  <tr><th align="left">Product</th><td>${order.sku}</td></tr>
  <tr><th align="left">Quantity</th><td>${order.quantity}</td></tr>
  <tr><th align="left">Total</th><td>${total}</td></tr>
</table>`),
    text: [
      `Thanks for your order, ${name}!`,
      '',
      `Order: #${order.id}`,
      `Product: ${order.sku}`,
      `Quantity: ${order.quantity}`,
      `Total: ${total}`,
      '',
      SHOP_NAME,
    ].join('\n'),
  };
}

/** reviewRequestEmail asks for a review some days after an order (task ask_for_review). */
export function reviewRequestEmail({ name, orderId }: { name: string; orderId: number }): Email {
  return {
    subject: `How was your order #${orderId}?`,
    html: page(html`<h1>Hi ${name},</h1>
<p>How was your order #${orderId}? A short review helps other customers choose.</p>`),
    text: `Hi ${name},\n\nHow was your order #${orderId}? A short review helps other customers choose.\n\n${SHOP_NAME}`,
  };
}

/** nightlyDigestEmail sums up a day's orders for the shop's staff (task nightly_digest). */
export function nightlyDigestEmail({
  date,
  orderCount,
  revenueCents,
}: {
  date: string;
  orderCount: number;
  revenueCents: number;
}): Email {
  const revenue = formatCents(revenueCents);
  return {
    subject: `Nightly digest for ${date}`,
    html: page(html`<h1>Nightly digest for ${date}</h1>
<p>Orders: ${orderCount}<br>Revenue: ${revenue}</p>`),
    text: `Nightly digest for ${date}\n\nOrders: ${orderCount}\nRevenue: ${revenue}`,
  };
}

/** formatCents shows an amount in cents as dollars: 1200 gives '$12.00'. */
export function formatCents(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

function page(body: SafeHtml): string {
  return html`<!doctype html>
<html>
<body style="font-family: sans-serif">
${body}
<p>${SHOP_NAME}</p>
</body>
</html>`.toString();
}
