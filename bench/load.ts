// One route under concurrent load with autocannon: latency percentiles from
// every response (in fractions of a ms, finer than autocannon's own table) and
// requests per second.
import autocannon, { type Result } from 'autocannon';

export interface Target {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
}

export interface Load {
  p50: number;
  p99: number;
  /** Successful responses per second. */
  rps: number;
  /** When the last successful response came (performance.now()): the end of the burst. */
  endedAt: number;
}

/** load sends requests to `target` from `connections` connections for `seconds`, and throws if any answer is not a 2xx. */
export async function load(target: Target, connections: number, seconds: number): Promise<Load> {
  const latencies: number[] = [];
  let endedAt = performance.now();
  const result = await new Promise<Result>((resolve, reject) => {
    const run = autocannon(
      {
        url: target.url,
        connections,
        duration: seconds,
        method: target.method ?? 'GET',
        headers: target.body ? { 'content-type': 'application/json' } : {},
        body: target.body,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 300) return;
      latencies.push(ms);
      endedAt = performance.now();
    });
  });
  if (result.non2xx > 0 || result.errors > 0) {
    const codes = Object.entries(result.statusCodeStats).map(([code, { count }]) => `${count}x ${code}`).join(', ');
    throw new Error(`${target.method ?? 'GET'} ${target.url}: ${result.non2xx} non-2xx and ${result.errors} errors (${codes})`);
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { p50: at(0.5), p99: at(0.99), rps: latencies.length / result.duration, endedAt };
}
