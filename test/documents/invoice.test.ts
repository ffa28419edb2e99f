import { describe, expect, it } from 'vitest';
import { invoiceFileName, renderInvoice } from '../../src/documents/invoice.ts';

const EVIL = `<script>alert("x")</script> Tom & Jerry's`;
const EVIL_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Tom &amp; Jerry&#39;s';

const order = { id: 7, sku: 'mug', quantity: 2, totalCents: 2_400, createdAt: '2026-11-28 01:00:00' };

describe('renderInvoice', () => {
  it('shows the order: id, date, customer, product, quantity and total', () => {
    const invoice = renderInvoice({ order, customer: { name: 'Ada Lovelace', email: 'ada@example.test' } });
    expect(invoice).toContain('<h1>Invoice #7</h1>');
    expect(invoice).toContain('Date: 2026-11-28</p>');
    expect(invoice).toContain('Billed to:<br>Ada Lovelace<br>ada@example.test');
    expect(invoice).toContain('<td>mug</td><td align="right">2</td><td align="right">$24.00</td>');
  });

  it('escapes every user value', () => {
    const invoice = renderInvoice({ order: { ...order, sku: EVIL }, customer: { name: EVIL, email: EVIL } });
    expect(invoice.split(EVIL_ESCAPED)).toHaveLength(4); // name, email and sku
    expect(invoice).not.toContain('<script>');
    expect(invoice).not.toContain('Tom & Jerry');
  });
});

describe('invoiceFileName', () => {
  it('names the file after the order', () => {
    expect(invoiceFileName(42)).toBe('invoice-42.html');
  });
});
