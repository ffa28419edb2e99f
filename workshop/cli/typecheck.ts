import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import type * as TypeScript from 'typescript';
import { ROOT } from '../course.ts';

// require(), not import: the ESM loader would first scan TypeScript's 9 MB
// CommonJS file for its exports, which costs most of a second on every start.
const ts = createRequire(import.meta.url)('typescript') as typeof TypeScript;

/** TypeProblem is one type error in a learner's file, ready to print. */
export interface TypeProblem {
  /** exercises/01-enqueue-now/jobs/client.ts:96:5 */
  where: string;
  message: string;
  /** The line of code, with a caret under the spot. */
  excerpt: string;
}

/**
 * TypeChecker type-checks a few files against the whole project, as
 * `tsc --noEmit` would (same tsconfig.json), and reports errors in those files
 * only. It keeps TypeScript's work between calls, so checking again after a
 * save takes a fraction of the first check.
 */
export class TypeChecker {
  readonly #service: TypeScript.LanguageService;
  readonly #files: string[];

  constructor(files: string[]) {
    this.#files = files;
    const configFile = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
    const host: TypeScript.LanguageServiceHost = {
      getScriptFileNames: () => this.#files,
      getScriptVersion: (file) => modifiedAt(file),
      getScriptSnapshot: (file) => {
        const text = ts.sys.readFile(file);
        return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
      },
      getCurrentDirectory: () => ROOT,
      getCompilationSettings: () => options,
      getDefaultLibFileName: (opts) => ts.getDefaultLibFilePath(opts),
      fileExists: ts.sys.fileExists,
      readFile: ts.sys.readFile,
      readDirectory: ts.sys.readDirectory,
      directoryExists: ts.sys.directoryExists,
      getDirectories: ts.sys.getDirectories,
    };
    this.#service = ts.createLanguageService(host, ts.createDocumentRegistry());
  }

  /** check returns the type errors in the files, or an empty list. */
  check(): TypeProblem[] {
    return this.#files.flatMap((file) => {
      const diagnostics = [...this.#service.getSyntacticDiagnostics(file), ...this.#service.getSemanticDiagnostics(file)];
      return diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error).map(toProblem);
    });
  }
}

function toProblem(diagnostic: TypeScript.Diagnostic): TypeProblem {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const file = diagnostic.file;
  if (!file || diagnostic.start === undefined) return { where: '', message, excerpt: '' };
  const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start);
  const text = file.text.split('\n')[line] ?? '';
  const width = Math.max(1, Math.min(diagnostic.length ?? 1, text.length - character));
  return {
    where: `${relative(ROOT, file.fileName)}:${line + 1}:${character + 1}`,
    message,
    excerpt: `${text}\n${' '.repeat(character)}${'~'.repeat(width)}`,
  };
}

function modifiedAt(file: string): string {
  try {
    return String(statSync(file).mtimeMs);
  } catch {
    return 'missing';
  }
}
