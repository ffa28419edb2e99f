import type { Services } from './services.ts';

/** Services that one backend started, with a way to stop them all. */
export interface StartedServices {
  services: Services;
  /** One line for the log, e.g. `local redis-server 7.0.15 on 127.0.0.1:40123, MailDev smtp :40124 web :40125`. */
  description: string;
  stop(): Promise<void>;
}
