/**
 * The seed's I/O redirection through an anonymous pipe: `pipe PROGRAM1 = PROGRAM2` runs two
 * programs with the first one's standard output piped into the second one's standard input,
 * as the shell's `PROGRAM1 | PROGRAM2` does. CreatePipe makes the pipe; the first program
 * gets its write end as stdout, the second its read end as stdin (STARTF_USESTDHANDLES);
 * this program closes its own copies of both ends, so that the second program sees the end
 * of its input when the first one exits, waits for both through their process handles, and
 * exits with the second one's exit code.
 *
 *   npx tsx examples/pipe-redirect/main.ts PROGRAM1 [ARGS...] = PROGRAM2 [ARGS...]
 */
import { ProcessHandle, createPipe } from '../../src/client/index.ts';

// An object manager of its own (started on demand) unless NTIPC_SOCKET or NTIPC_NAMESPACE says otherwise.
process.env.NTIPC_NAMESPACE ??= 'example-pipe-redirect';

const args = process.argv.slice(2);
const split = args.indexOf('=');
if (split < 1 || split === args.length - 1) {
  console.error('usage: pipe-redirect PROGRAM1 [ARGS...] = PROGRAM2 [ARGS...]');
  process.exit(1);
}
const [command1 = '', ...args1] = args.slice(0, split);
const [command2 = '', ...args2] = args.slice(split + 1);

// CreatePipe(&hReadPipe, &hWritePipe, &PipeSA, 0): the default size.
const { read, write } = await createPipe();

// The first program: stdin and stderr are ours, stdout is the write end of the pipe.
let p1: ProcessHandle;
try {
  p1 = await ProcessHandle.spawn(command1, args1, { stdio: ['inherit', write.fd, 'inherit'] });
} catch (e) {
  console.error(`pipe-redirect: cannot start ${command1}: ${(e as Error).message}`);
  process.exit(2);
}
// CloseHandle(hWritePipe): the first program holds the only write end now.
await write.close();

// The second program: stdin is the read end of the pipe, stdout and stderr are ours.
let p2: ProcessHandle;
try {
  p2 = await ProcessHandle.spawn(command2, args2, { stdio: [read.fd, 'inherit', 'inherit'] });
} catch (e) {
  console.error(`pipe-redirect: cannot start ${command2}: ${(e as Error).message}`);
  process.exit(3); // the first program, its reader gone, fails its next write
}
// CloseHandle(hReadPipe): should the second program exit early, the first one's writes fail.
await read.close();

// WaitForSingleObject(ProcInfo1.hProcess, INFINITE); then the same for the second.
await p1.wait();
await p2.wait();
process.exitCode = p2.exitCode ?? 1;
await p1.close();
await p2.close();
