/**
 * What the command prints and how it ends: exit codes, the one-line failure, JSON, tables.
 * Every failure reaches the user as exactly one line on stderr, `ntipc: …`.
 */
import { IpcError } from '../client/index.ts';

/** The exit codes of `ntipc`, one meaning each (docs/cli.md). A command run under `mutex run` / `sem run` exits with that command's code instead. */
export const ExitCode = {
  ok: 0,
  /** A failure: unknown object, bad name, no object manager, an operation refused. */
  failure: 1,
  /** Bad usage: unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** `serve`: another object manager already serves the socket. */
  alreadyServing: 3,
  /** The timeout passed (or, with `--no-wait`, there was nothing to take). */
  timeout: 4,
  /** A mutex waited on was abandoned: its previous owner ended without releasing it. */
  abandoned: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the command reports as one line and an exit code. */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** Fail with one line on stderr and `exitCode`. */
export function fail(exitCode: number, message: string): never {
  throw new CliFailure(exitCode, message);
}

/** A usage error (exit code 2): a malformed argument commander could not catch. */
export function usage(message: string): never {
  throw new CliFailure(ExitCode.usage, message);
}

/**
 * Turn the usual failures of opening `kind` `name` (a missing name, a name of another type,
 * a malformed name) into one sentence; anything else is returned as it is.
 */
export function explain(e: unknown, kind: string, name: string): unknown {
  if (!(e instanceof IpcError)) return e;
  switch (e.code) {
    case 'ERROR_FILE_NOT_FOUND':
    case 'ENOENT':
      return new CliFailure(ExitCode.failure, `no ${kind} named ${name}`);
    case 'ERROR_INVALID_HANDLE':
      return new CliFailure(ExitCode.failure, `${name} is not ${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind}: the name belongs to an object of another type`);
    case 'ERROR_INVALID_NAME':
    case 'ERROR_FILENAME_EXCED_RANGE':
    case 'ERROR_PATH_NOT_FOUND':
    case 'ERROR_BAD_NETPATH':
      return new CliFailure(ExitCode.failure, `bad ${kind} name ${JSON.stringify(name)}${detailOf(e)}`);
    default:
      return e;
  }
}

function detailOf(e: IpcError): string {
  const i = e.message.lastIndexOf(']: ');
  return i >= 0 ? ` (${e.message.slice(i + 3)})` : '';
}

/** The one line for any error that reached the top. */
export function failureLine(e: unknown, socket: string, autoStart: boolean): { line: string; exitCode: number } {
  if (e instanceof CliFailure) return { line: e.message, exitCode: e.exitCode };
  if (e instanceof IpcError) {
    if (e.code === 'ERROR_SERVICE_NOT_ACTIVE') {
      return { line: `no object manager serves ${socket}${autoStart ? '' : ' (--no-start: none was started)'}`, exitCode: ExitCode.failure };
    }
    if (e.code === 'ERROR_TIMEOUT' || e.code === 'ERROR_SEM_TIMEOUT') return { line: e.message, exitCode: ExitCode.timeout };
    if (e.code === 'ERROR_CONNECTION_ABORTED') return { line: 'the object manager went away', exitCode: ExitCode.failure };
    return { line: e.message, exitCode: ExitCode.failure };
  }
  const err = e as NodeJS.ErrnoException;
  return { line: err?.message ?? String(e), exitCode: ExitCode.failure };
}

/** Print a value as indented JSON. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Print rows as a table with a header, columns padded to their widest cell. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

/** A note for the person at the terminal (readiness, progress): stderr, so that stdout stays data. */
export function note(line: string): void {
  process.stderr.write(`ntipc: ${line}\n`);
}

/** Parse a non-negative integer option (ms, counts); anything else is a usage error. */
export function integerOption(value: string | undefined, option: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) usage(`${option} takes an integer ≥ ${min}, not ${JSON.stringify(value)}`);
  return n;
}

/** The "Examples:" block every command's help ends with. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}
