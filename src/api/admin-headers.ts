import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

const secure = secureHeaders({
  xFrameOptions: 'DENY',
  contentSecurityPolicy: {
    // No other site may show the page in a frame, where its buttons could be clicked through a disguise.
    frameAncestors: ["'none'"],
    // The page and what it loads come from this server only. Job payloads are user data
    // shown on the page; should one ever slip past the page's escaping, no script of its
    // own runs. It also keeps the page from fetching web fonts from Google, so it works
    // offline and tells no third party who opens it.
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    baseUri: ["'self'"],
    objectSrc: ["'none'"],
  },
});

/**
 * adminHeaders keep the jobs admin page out of every cache (it shows payloads
 * and errors, which may hold personal data), out of other sites' frames, and
 * limited to its own scripts. They go on every answer, the 401 included.
 */
export const adminHeaders: MiddlewareHandler = async (c, next) => {
  await secure(c, next);
  c.res.headers.set('Cache-Control', 'no-store');
};
