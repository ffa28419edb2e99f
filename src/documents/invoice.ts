import type { Order } from '../db/orders.ts';
import type { User } from '../db/users.ts';
import { html } from '../mail/escape.ts';
import { formatCents, SHOP_NAME } from '../mail/templates.ts';

/** InvoiceOrder is the part of an order that an invoice shows. */
export type InvoiceOrder = Pick<Order, 'id' | 'sku' | 'quantity' | 'totalCents' | 'createdAt'>;

/** InvoiceCustomer is who the invoice is made out to. */
export type InvoiceCustomer = Pick<User, 'name' | 'email'>;

/** invoiceFileName is the name an order's invoice is stored under in the uploads: 'invoice-42.html'. */
export function invoiceFileName(orderId: number): string {
  return `invoice-${orderId}.html`;
}

/**
 * renderInvoice renders an order's invoice as a standalone HTML page (task
 * generate_invoice). Every value goes through `html`, so a customer named
 * '<b>Bobby</b>' shows as text, not markup. The date is the day the order was
 * placed, in UTC.
 */
export function renderInvoice({ order, customer }: { order: InvoiceOrder; customer: InvoiceCustomer }): string {
  const date = order.createdAt.slice(0, 10);
  return html`<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>Invoice #${order.id}</title>
</head>
<body style="font-family: sans-serif">
<h1>Invoice #${order.id}</h1>
<p>Date: ${date}</p>
<p>Billed to:<br>${customer.name}<br>${customer.email}</p>
<table>
  <tr><th align="left">Product</th><th align="right">Quantity</th><th align="right">Total</th></tr>
  <tr><td>${order.sku}</td><td align="right">${order.quantity}</td><td align="right">${formatCents(order.totalCents)}</td></tr>
</table>
<p>${SHOP_NAME}</p>
</body>
</html>
`.toString();
}
