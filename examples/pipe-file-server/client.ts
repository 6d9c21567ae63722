/**
 * The seed's file client: wait for the server's pipe, open it, ask for FILE, and print each
 * line the server sends, one message each, until the server disconnects it (reads then fail
 * ERROR_PIPE_NOT_CONNECTED: the seed's `while (ReadFile(...))`). The one instance serves
 * one client at a time: the others wait their turn.
 *
 * usage: client.ts PIPE FILE
 * Exit codes: 0 the whole file came; 1 the server went away before the end of it; 3 no such
 * pipe ("Failure to locate server").
 */
import { IpcError, NamedPipe, waitNamedPipe } from '../../src/client/index.ts';

const [name, file] = process.argv.slice(2) as [string, string];
const isCode = (e: unknown, code: string) => e instanceof IpcError && e.code === code;

let pipe: NamedPipe | undefined;
while (pipe === undefined) {
  try {
    await waitNamedPipe(name, Infinity); // WaitNamedPipe(ServerPipeName, NMPWAIT_WAIT_FOREVER)
    pipe = await NamedPipe.open(name); // CreateFile(ServerPipeName, GENERIC_READ | GENERIC_WRITE, ...)
  } catch (e) {
    if (isCode(e, 'ERROR_PIPE_BUSY')) continue; // another client got the instance first: wait again
    console.error(`client (pid ${process.pid}): failure to locate server: ${(e as Error).message}`);
    process.exit(3);
  }
}

// SetNamedPipeHandleState(PIPE_READMODE_MESSAGE): each read is one line.
await pipe.setState({ readMode: 'message' });
await pipe.write(Buffer.from(file)); // WriteFile: the request
try {
  for (;;) process.stdout.write(await pipe.readMessage()); // ReadFile: one response record
} catch (e) {
  // The server disconnected us once we had read everything (it flushed first): the end.
  // A server that closed its end or died instead breaks the pipe before the end.
  if (!isCode(e, 'ERROR_PIPE_NOT_CONNECTED')) {
    if (!isCode(e, 'ERROR_BROKEN_PIPE')) throw e;
    console.error(`client (pid ${process.pid}): the server went away before the end of ${file}`);
    process.exitCode = 1;
  }
}
await pipe.close(); // CloseHandle
