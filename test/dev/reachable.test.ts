import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answers, isReachable, waitUntilAnswers } from '../../src/dev/reachable.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

/** A TCP server on a free port that treats each connection with `onConnection`. */
async function serve(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

describe('answers', () => {
  it('is false for a port that accepts and hangs up without a word, as Docker\'s proxy does before the container listens', async () => {
    const port = await serve((socket) => socket.destroy());
    expect(await isReachable(`redis://127.0.0.1:${port}`)).toBe(true);
    expect(await answers(`redis://127.0.0.1:${port}`)).toBe(false);
  });

  it('is true once Redis answers the PING it sends', async () => {
    const port = await serve((socket) => socket.once('data', (data) => socket.end(String(data) === 'PING\r\n' ? '+PONG\r\n' : '-ERR\r\n')));
    expect(await answers(`redis://127.0.0.1:${port}`)).toBe(true);
  });

  it('is true for an SMTP server, which greets first', async () => {
    const port = await serve((socket) => socket.write('220 catcher ESMTP\r\n'));
    expect(await answers(`smtp://127.0.0.1:${port}`)).toBe(true);
  });

  it('is false for a silent port after its timeout, and waitUntilAnswers says so', async () => {
    const port = await serve(() => {});
    expect(await answers(`smtp://127.0.0.1:${port}`, 200)).toBe(false);
    await expect(waitUntilAnswers(`smtp://127.0.0.1:${port}`, 500)).rejects.toThrow(`Nothing answers at smtp://127.0.0.1:${port} after 0.5 s`);
  });
});
