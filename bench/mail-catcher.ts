import { startNode } from './child.ts';

export interface MailCatcherProcess {
  smtpUrl: string;
  webUrl: string;
  stop(): Promise<void>;
}

/** startMailCatcherProcess runs bench/mail-catcher-process.ts and returns its URLs. */
export async function startMailCatcherProcess(): Promise<MailCatcherProcess> {
  const child = await startNode('bench/mail-catcher-process.ts', {}, /smtp=(\d+) web=(\d+)\n/);
  const [, smtp, web] = /smtp=(\d+) web=(\d+)/.exec(child.readyText)!;
  return { smtpUrl: `smtp://127.0.0.1:${smtp}`, webUrl: `http://127.0.0.1:${web}`, stop: () => child.stop() };
}
