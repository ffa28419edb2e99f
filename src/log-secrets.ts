/**
 * secretsOf lists the secrets a process knows from its environment: the
 * passwords inside REDIS_URL and SMTP_URL, and ADMIN_PASSWORD. A wrong
 * password is a secret too: it may be an old one, or the right one with a typo.
 */
export function secretsOf(env: NodeJS.ProcessEnv): string[] {
  return [...passwordsIn(env.REDIS_URL), ...passwordsIn(env.SMTP_URL), env.ADMIN_PASSWORD].filter(
    (secret): secret is string => !!secret,
  );
}

/** A JSON string literal, quotes included. In a JSON line, every " outside one starts one. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * secretScrubber returns a function that replaces every secret in a JSON log
 * line with ***. A secret can hide in a line in more than one form, so it
 * looks for each of them: as it is, percent-encoded as in a URL, and JSON-escaped
 * (for JSON inside a string field, such as an error message quoting a reply).
 */
export function secretScrubber(secrets: string[]): (line: string) => string {
  const plain = secrets.filter(Boolean).flatMap((secret) => [secret, encodeURIComponent(secret), asUrlPassword(secret)]);
  // Longest first, so a secret that contains another is replaced whole.
  const inText = [...new Set(plain.flatMap((form) => [form, jsonEscaped(form)]))].sort((a, b) => b.length - a.length);
  const inLine = inText.map(jsonEscaped);
  const scrubText = (text: string) => inText.reduce((clean, form) => clean.replaceAll(form, '***'), text);

  return (line) => {
    // Most lines hold no secret: leave them as they are.
    if (!inLine.some((form) => line.includes(form))) return line;
    // Scrub the text of each JSON string, not the line: a secret such as "n0pe" must not
    // eat the n of an escaped \n next to it, and the line must stay JSON for pino-pretty.
    return line.replace(JSON_STRING, (literal) => JSON.stringify(scrubText(JSON.parse(literal) as string)));
  };
}

/** The password of a URL, decoded and as written. None for a URL without one, or that does not parse. */
function passwordsIn(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const written = new URL(url).password;
    return written ? [written, decodeURIComponentOr(written)] : [];
  } catch {
    return [];
  }
}

/** The secret as a URL's password: percent-encoded the way URL does it, which is not quite encodeURIComponent. */
function asUrlPassword(secret: string): string {
  const url = new URL('redis://host');
  url.password = secret;
  return url.password;
}

/** What a string looks like inside a JSON string literal, without the quotes: a"b gives a\"b. */
function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function decodeURIComponentOr(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % that decodes to nothing: the form as written is all there is
  }
}
