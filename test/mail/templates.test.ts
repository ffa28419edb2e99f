import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/mail/escape.ts';
import {
  birthdayEmail,
  nightlyDigestEmail,
  receiptEmail,
  reviewRequestEmail,
  welcomeEmail,
  type Email,
} from '../../src/mail/templates.ts';

const EVIL = `<script>alert("x")</script> Tom & Jerry's`;
const EVIL_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Tom &amp; Jerry&#39;s';

describe('escapeHtml', () => {
  it('escapes & < > " and \'', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml(null)).toBe('');
  });
});

describe('html`...`', () => {
  it('escapes interpolations but not nested html or the template itself', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner} ${['<a>', html`<br>`]}</p>`.toString()).toBe('<p><b>&lt;i&gt;</b> &lt;a&gt;<br></p>');
  });
});

/** Every template, fed the evil string wherever it takes user data. */
const emails: Record<string, Email> = {
  welcome: welcomeEmail({ name: EVIL }),
  birthday: birthdayEmail({ name: EVIL }),
  receipt: receiptEmail({ name: EVIL, order: { id: 7, sku: EVIL, quantity: 2, totalCents: 2_400 } }),
  review: reviewRequestEmail({ name: EVIL, orderId: 7 }),
  digest: nightlyDigestEmail({ date: EVIL, orderCount: 3, revenueCents: 4_500 }),
};

describe.each(Object.entries(emails))('%s email', (_, email) => {
  it('escapes the user data in its html', () => {
    expect(email.html).toContain(EVIL_ESCAPED);
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('Tom & Jerry');
  });

  it('keeps the user data as it is in the text part', () => {
    expect(email.text).toContain(EVIL);
  });
});

describe('subjects and content', () => {
  it('says happy birthday', () => {
    expect(birthdayEmail({ name: 'Ada' }).subject).toBe('Happy birthday, Ada!');
  });

  it('names the order and shows the total on a receipt', () => {
    const email = receiptEmail({ name: 'Ada', order: { id: 42, sku: 'mug', quantity: 3, totalCents: 3_600 } });
    expect(email.subject).toBe('Your receipt for order #42');
    expect(email.html).toContain('$36.00');
    expect(email.text).toContain('Total: $36.00');
  });

  it('puts the name in the welcome subject and the order in the review request', () => {
    expect(welcomeEmail({ name: 'Grace' }).subject).toContain('Grace');
    expect(reviewRequestEmail({ name: 'Grace', orderId: 9 }).subject).toContain('#9');
  });

  it('sums up the day in the digest', () => {
    const email = nightlyDigestEmail({ date: '2024-05-02', orderCount: 3, revenueCents: 4_505 });
    expect(email.subject).toContain('2024-05-02');
    expect(email.text).toContain('Orders: 3');
    expect(email.html).toContain('$45.05');
  });
});
