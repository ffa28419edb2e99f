// Node module hooks that lay an exercise folder over src/ (see resolve.ts).
// workshop/run.ts registers them with module.register() before it imports the app.
import type { ResolveHook } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { importerFor, overlaid, type Overlay } from './resolve.ts';

let overlay: Overlay;

export function initialize(data: Overlay): void {
  overlay = data;
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const { parentURL } = context;
  const from = parentURL?.startsWith('file:') ? pathToFileURL(importerFor(overlay, specifier, fileURLToPath(parentURL))).href : parentURL;
  const result = await nextResolve(specifier, { ...context, parentURL: from });
  if (!result.url.startsWith('file:')) return result;
  return { ...result, url: pathToFileURL(overlaid(overlay, fileURLToPath(result.url))).href };
};
