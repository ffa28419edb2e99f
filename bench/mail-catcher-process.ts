// The mail catcher in a process of its own, so its work is not counted in the
// benchmark's process. Prints `mail catcher smtp=<port> web=<port>` once it listens.
import { startMailCatcher } from '../src/dev/mail-catcher.ts';

const mail = await startMailCatcher();
console.log(`mail catcher smtp=${mail.smtpPort} web=${mail.webPort}`);
process.once('SIGTERM', () => {
  void mail.stop().then(() => process.exit(0));
});
