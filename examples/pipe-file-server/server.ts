/**
 * The seed's file server: one instance of a message pipe, and a loop that waits for a
 * client (ConnectNamedPipe), reads its request — a file name — sends the file one line per
 * message, and disconnects the client to make room for the next one (DisconnectNamedPipe).
 *
 * DisconnectNamedPipe throws away whatever the client has not read yet, on Windows as here,
 * so between the last write and the disconnect the server calls FlushFileBuffers, which
 * waits until the client has read everything (the seed leaves it out, and a slow client
 * would lose the end of its file).
 */
import fs from 'node:fs';
import { IpcError, NamedPipeServer } from '../../src/client/index.ts';

/** The lines of a text, each with its newline (fgets' records); a last line without one as it is. */
export function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const isCode = (e: unknown, code: string) => e instanceof IpcError && e.code === code;

/**
 * CreateNamedPipe(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE |
 * PIPE_WAIT, 1, 0, 0, ...): the pipe, listening from now on.
 */
export function createFileServerPipe(name: string): Promise<NamedPipeServer> {
  return NamedPipeServer.create(name, { type: 'message', readMode: 'message', maxInstances: 1 });
}

/**
 * Serve `requests` requests on `pipe`, then resolve with how many were answered; `signal`
 * stops the loop early (a client that will not come). Each step is logged.
 */
export async function serveFiles(pipe: NamedPipeServer, requests: number, signal: AbortSignal, log: (line: string) => void): Promise<number> {
  let served = 0;
  try {
    while (served < requests) {
      log('server: awaiting next request');
      await pipe.connect({ signal }); // ConnectNamedPipe
      const pid = (await pipe.state()).clientPid; // GetNamedPipeClientProcessId
      try {
        const file = (await pipe.readMessage({ signal })).toString('utf8'); // ReadFile: the request
        log(`server: request from pid ${pid}: ${file}`);
        let lines: string[] = [];
        try {
          lines = linesOf(fs.readFileSync(file, 'utf8'));
        } catch (e) {
          log(`server: cannot read ${file}: ${(e as Error).message}`);
        }
        for (const line of lines) await pipe.write(Buffer.from(line)); // WriteFile: one line, one message
        await pipe.flush(); // FlushFileBuffers: the client has read it all
        log(`server: sent ${lines.length} lines to pid ${pid}`);
        served++;
      } catch (e) {
        // The client went away early: on to the next one. Anything else ends the server.
        if (!isCode(e, 'ERROR_BROKEN_PIPE') && !isCode(e, 'ERROR_NO_DATA')) throw e;
        log(`server: pid ${pid} went away before it had the whole file`);
      }
      await pipe.disconnect(); // DisconnectNamedPipe
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  }
  return served;
}
