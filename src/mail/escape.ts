const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * escapeHtml turns a value into text that is safe inside HTML, both between
 * tags and in quoted attributes: it escapes & < > " and '. null and undefined
 * become ''.
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * SafeHtml is markup that has been escaped already. `html` inserts it as it
 * is, so templates can be nested without escaping twice.
 */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/**
 * html is a tagged template that escapes every interpolated value, so user
 * data cannot inject markup:
 *
 *     html`<p>Hi ${name}</p>`   // name '<b>' gives '<p>Hi &lt;b&gt;</p>'
 *
 * A SafeHtml value (another html`...`) goes in unescaped, and an array is
 * joined with each item treated the same way.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += toHtml(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

function toHtml(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(toHtml).join('');
  return escapeHtml(value);
}
