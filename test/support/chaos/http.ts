export interface JsonAnswer {
  status: number;
  body: Record<string, any>;
}

/** postJson POSTs `body` as JSON, with `content-type: application/json` (sent even without a body). */
export async function postJson(baseUrl: string, path: string, body?: unknown): Promise<JsonAnswer> {
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, any>;
  try {
    parsed = JSON.parse(text) as Record<string, any>;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}
