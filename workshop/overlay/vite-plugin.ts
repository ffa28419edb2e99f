import type { Plugin } from 'vite';
import { importerFor, overlaid, type Overlay } from './resolve.ts';

/** overlayPlugin makes Vitest resolve modules the way workshop/run.ts does: the exercise's files over src/. */
export function overlayPlugin(overlay: Overlay): Plugin {
  return {
    name: 'workshop-overlay',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer || importer.startsWith('\0')) return null;
      const from = importerFor(overlay, source, importer.split('?')[0]!);
      const resolved = await this.resolve(source, from, { ...options, skipSelf: true });
      if (!resolved || resolved.external) return resolved;
      const [path, query] = resolved.id.split('?') as [string, string | undefined];
      const swapped = overlaid(overlay, path);
      if (swapped === path) return resolved;
      return { ...resolved, id: query === undefined ? swapped : `${swapped}?${query}` };
    },
  };
}
