/**
 * The parts of the source repository `bench` and `examples` run: found from this file's
 * place in the package, run with tsx. An installed package has neither.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, fail } from './output.ts';

/** The package root: src/cli/ or dist/cli/ is two levels below it. */
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** `node --import tsx FILE …` for a TypeScript file of the repository. */
export function tsxCommand(file: string, args: readonly string[]): { command: string; args: string[] } {
  let loader: string;
  try {
    loader = import.meta.resolve('tsx');
  } catch {
    fail(ExitCode.failure, 'tsx is not installed here (it comes with `npm ci` in the source repository)');
  }
  return { command: process.execPath, args: ['--import', loader, file, ...args] };
}

/** Fail with one line unless the repository file `relative` is there. */
export function requireRepositoryFile(relative: string, what: string): string {
  const file = path.join(packageRoot, relative);
  if (!fs.existsSync(file)) fail(ExitCode.failure, `${what} are not in this installation (${relative} is in the source repository)`);
  return file;
}
