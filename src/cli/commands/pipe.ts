/**
 * `pipe serve|cat|send`: netcat for named pipes. Byte mode copies bytes as they come; with
 * `--message` each line of stdin is one message and each message read is printed as a line.
 */
import type { Command } from 'commander';
import { IpcError, NamedPipe, NamedPipeServer, waitNamedPipe, type Connection, type NamedPipeEnd } from '../../client/index.ts';
import { ExitCode, examples, explain, fail, integerOption, note } from '../output.ts';
import type { Session } from '../session.ts';
import { readStdin, writeOut } from '../stdio.ts';

/** `calc` means `\\.\pipe\calc`; a full `\\…\pipe\…` name is taken as it is. */
export function pipeName(arg: string): string {
  return arg.startsWith('\\\\') ? arg : `\\\\.\\pipe\\${arg}`;
}

/** How a read ends when there is no more to read: the other end closed, or this one did. */
const END_OF_DATA = new Set(['ERROR_BROKEN_PIPE', 'ERROR_PIPE_NOT_CONNECTED', 'ERROR_OPERATION_ABORTED', 'ERROR_INVALID_HANDLE']);
/** How a write ends when nobody reads any more. */
const NO_READER = new Set(['ERROR_NO_DATA', 'ERROR_PIPE_NOT_CONNECTED', 'ERROR_BROKEN_PIPE', 'ERROR_INVALID_HANDLE']);

const endedBy = (codes: Set<string>) => (e: unknown) => {
  if (e instanceof IpcError && codes.has(e.code)) return;
  throw e;
};

/** Print what comes through `end` until the other end closes: bytes, or one line per message. */
async function copyToStdout(end: NamedPipeEnd, messages: boolean): Promise<void> {
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    if (messages) await writeOut(Buffer.concat([await end.readMessage(), Buffer.from('\n')]));
    else {
      const { bytesRead } = await end.read(buf);
      await writeOut(Buffer.from(buf.subarray(0, bytesRead)));
    }
  }
}

/** Write stdin to `end` until stdin ends: bytes as they come, or one message per line. */
async function copyFromStdin(end: NamedPipeEnd, messages: boolean): Promise<void> {
  for await (const chunk of readStdin(messages)) await end.write(chunk);
}

/** Open a client end, waiting up to `timeoutMs` for a free instance when all are busy. */
async function openClient(name: string, access: 'read' | 'write', timeoutMs: number, connection: Connection): Promise<NamedPipe> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await NamedPipe.open(name, { access, connection });
    } catch (e) {
      if (!(e instanceof IpcError && e.code === 'ERROR_PIPE_BUSY')) throw explain(e, 'pipe', name);
    }
    const left = Math.max(0, deadline - performance.now());
    try {
      await waitNamedPipe(name, left, { connection });
    } catch (e) {
      if (e instanceof IpcError && e.code === 'ERROR_SEM_TIMEOUT') fail(ExitCode.timeout, `timed out after ${timeoutMs} ms: every instance of pipe ${name} is busy`);
      throw explain(e, 'pipe', name);
    }
  }
}

async function readModeMessage(end: NamedPipe, name: string): Promise<void> {
  try {
    await end.setState({ readMode: 'message' });
  } catch (e) {
    if (e instanceof IpcError && e.code === 'ERROR_INVALID_PARAMETER') fail(ExitCode.failure, `pipe ${name} is a byte pipe: --message needs a message pipe`);
    throw e;
  }
}

export function registerPipe(program: Command, session: Session): void {
  const pipe = program
    .command('pipe')
    .description('named pipes from the shell: NAME is short for \\\\.\\pipe\\NAME')
    .addHelpText('after', examples('ntipc pipe serve calc < requests.txt', 'ntipc pipe cat calc', "ntipc pipe send calc 'hello'"));

  pipe
    .command('serve')
    .description(
      'create the pipe (one instance), wait for a client, then copy stdin to the pipe and the pipe to stdout; ' +
        'ends when the client closes, or when stdin ends (the pipe is closed once the client has everything)',
    )
    .argument('<name>', 'the pipe: NAME or \\\\.\\pipe\\NAME')
    .option('--message', 'a message pipe: each stdin line is one message, each message is printed as a line')
    .option('--no-stdin', 'only print what the client sends (ends when the client closes)')
    .addHelpText('after', examples('ntipc pipe serve logs --no-stdin > logs.txt', 'printf "a\\nb\\n" | ntipc pipe serve --message jobs'))
    .action(async (arg: string, opts: { message?: boolean; stdin: boolean }) => {
      const name = pipeName(arg);
      const mode = opts.message ? 'message' : 'byte';
      const connection = await session.connect();
      let server: NamedPipeServer;
      try {
        server = await NamedPipeServer.create(name, { connection, type: mode, readMode: mode, maxInstances: 1 });
      } catch (e) {
        if (e instanceof IpcError && e.code === 'ERROR_PIPE_BUSY') fail(ExitCode.failure, `pipe ${name} is already served`);
        throw explain(e, 'pipe', name);
      }
      try {
        note(`pipe ${name}: waiting for a client`);
        await server.connect();
        const { clientPid } = await server.state();
        note(`pipe ${name}: client${clientPid === null ? '' : ` pid ${clientPid}`} connected`);
        const incoming = copyToStdout(server, opts.message ?? false).catch(endedBy(END_OF_DATA));
        const outgoing = opts.stdin ? copyFromStdin(server, opts.message ?? false).catch(endedBy(NO_READER)) : new Promise<void>(() => {});
        await Promise.race([incoming, outgoing]);
      } finally {
        await server.close();
      }
    });

  pipe
    .command('cat')
    .description('open the pipe as a client and print what the server sends until it closes')
    .argument('<name>', 'the pipe: NAME or \\\\.\\pipe\\NAME')
    .option('--message', 'read in message mode: each message is printed as a line (a message pipe only)')
    .option('--timeout <ms>', 'when every instance is busy, wait this long for one: exit code 4 (default: forever)')
    .addHelpText('after', examples('ntipc pipe cat calc', 'ntipc pipe cat --message jobs | while read job; do echo "got $job"; done'))
    .action(async (arg: string, opts: { message?: boolean; timeout?: string }) => {
      const name = pipeName(arg);
      const connection = await session.connect();
      const client = await openClient(name, 'read', integerOption(opts.timeout, '--timeout') ?? Infinity, connection);
      try {
        if (opts.message) await readModeMessage(client, name);
        await copyToStdout(client, opts.message ?? false).catch(endedBy(END_OF_DATA));
      } finally {
        await client.close();
      }
    });

  pipe
    .command('send')
    .description('open the pipe as a client, write DATA (or stdin) and close')
    .argument('<name>', 'the pipe: NAME or \\\\.\\pipe\\NAME')
    .argument('[data]', 'what to write, as it is (no newline added); without it, stdin')
    .option('--message', 'stdin: each line is one message (DATA is always one write, so one message on a message pipe)')
    .option('--timeout <ms>', 'when every instance is busy, wait this long for one: exit code 4 (default: forever)')
    .addHelpText('after', examples("ntipc pipe send calc '2+2'", 'tail -f app.log | ntipc pipe send logs'))
    .action(async (arg: string, data: string | undefined, opts: { message?: boolean; timeout?: string }) => {
      const name = pipeName(arg);
      const connection = await session.connect();
      const client = await openClient(name, 'write', integerOption(opts.timeout, '--timeout') ?? Infinity, connection);
      try {
        try {
          if (data !== undefined) await client.write(Buffer.from(data, 'utf8'));
          else await copyFromStdin(client, opts.message ?? false);
        } catch (e) {
          if (e instanceof IpcError && NO_READER.has(e.code)) fail(ExitCode.failure, `pipe ${name}: the server closed it before everything was written`);
          throw e;
        }
      } finally {
        await client.close();
      }
    });
}
