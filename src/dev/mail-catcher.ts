import { catcherName, type MailBackend } from './mail-catcher-apis.ts';
import { startMailDev, type RunningCatcher } from './maildev.ts';
import { findMailHog, startMailHog } from './mailhog.ts';

/** A mail catcher started here: which one, why that one, where it listens. */
export interface MailCatcher extends RunningCatcher {
  backend: MailBackend;
  /** Which catcher runs and why, in one line for a banner. */
  reason: string;
}

/** NO_MAILHOG: why MailDev runs when no MailHog binary was found. */
const NO_MAILHOG = 'MailDev, in-process: no MAILHOG_BIN and no mailhog on PATH';

/**
 * startMailCatcher starts the real MailHog where there is one: the binary that
 * MAILHOG_BIN names, or `mailhog` on PATH. Otherwise, or when a MailHog found
 * on PATH cannot start, it runs MailDev in this process. SMTP on smtpPort, the
 * web inbox and its API on webPort, both on 127.0.0.1; port 0 (the default)
 * picks a free port. A MAILHOG_BIN that is set but cannot start is an error.
 */
export async function startMailCatcher({ smtpPort = 0, webPort = 0, env = process.env } = {}): Promise<MailCatcher> {
  const mailhog = findMailHog(env);
  if (!mailhog) return { ...(await startMailDev({ smtpPort, webPort })), backend: 'maildev', reason: NO_MAILHOG };
  try {
    const started = await startMailHog(mailhog.path, { smtpPort, webPort });
    return { ...started, backend: 'mailhog', reason: `MailHog, ${mailhog.foundBy}` };
  } catch (err) {
    if (env.MAILHOG_BIN) throw err;
    const why = (err as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 300);
    const maildev = await startMailDev({ smtpPort, webPort });
    return { ...maildev, backend: 'maildev', reason: `MailDev, in-process: ${catcherName('mailhog')} on PATH did not start (${why})` };
  }
}
