/**
 * `wait`, `event set|reset|pulse`, `mutex run`, `sem run`: synchronization from the shell.
 * `mutex run` and `sem run` hold the object on ntipc's own connection while a command runs;
 * if ntipc dies holding a mutex, the object manager abandons it and the next taker is told.
 */
import type { Command } from 'commander';
import { Event, Mutex, Semaphore, waitAll, waitAny, type Waitable, type WaitStatus } from '../../client/index.ts';
import { runChild } from '../child-command.ts';
import { openObjectRef, type OpenedObject } from '../object-ref.ts';
import { ExitCode, examples, explain, fail, integerOption, note, usage } from '../output.ts';
import type { Session } from '../session.ts';

const timeoutOf = (value: string | undefined) => integerOption(value, '--timeout') ?? Infinity;

/** What a wait's outcome means to the shell: abandoned and timeout have codes of their own. */
function exitForStatus(status: WaitStatus, what: string, timeoutMs: number): void {
  if (status === 'timeout') fail(ExitCode.timeout, `timed out after ${timeoutMs} ms waiting for ${what}`);
  if (status === 'abandoned') {
    process.exitCode = ExitCode.abandoned;
    note(`${what}: a mutex was abandoned (its previous owner ended holding it)`);
  }
}

/** Who holds mutex `m`, for a timeout message: " (owned by pid P)" or nothing. */
async function holderOf(m: Mutex): Promise<string> {
  const pid = (await m.query().catch(() => undefined))?.state.ownerPid;
  return typeof pid === 'number' ? ` (owned by pid ${pid})` : '';
}

function commandOf(args: readonly string[]): { command: string; args: string[] } {
  if (args.length === 0) usage('no command to run: put it after --');
  return { command: args[0]!, args: args.slice(1) };
}

/** Run the command and exit with its code; the caller releases what it holds afterwards. */
async function runHeld(cmd: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { command, args } = commandOf(cmd);
  const outcome = await runChild(command, args, { env: { ...process.env, ...env } });
  if (outcome.startError !== undefined) note(outcome.startError);
  process.exitCode = outcome.exitCode;
}

export function registerSync(program: Command, session: Session): void {
  program
    .command('wait')
    .summary('wait until an object is signaled (any of several, or --all)')
    .description(
      'wait until an object is signaled (any of several, or --all); TYPE:NAME names the type (mutex, sem, event, timer, process), ' +
        'a bare NAME is found by type; event:NAME makes a manual-reset event if there is none',
    )
    .argument('<names...>', 'objects: NAME, or TYPE:NAME (mutex:, sem:, event:, timer:, process:PID)')
    .option('--all', 'wait until all are signaled at once (WaitForMultipleObjects with bWaitAll)')
    .option('--timeout <ms>', 'give up after this long: exit code 4 (default: wait forever)')
    .addHelpText(
      'after',
      examples('ntipc wait event:ready --timeout 5000', 'ntipc wait job-done process:4242          # prints the one that came first', 'ntipc wait --all mutex:a mutex:b'),
    )
    .action(async (names: string[], opts: { all?: boolean; timeout?: string }) => {
      const timeoutMs = timeoutOf(opts.timeout);
      const connection = await session.connect();
      const opened: OpenedObject[] = [];
      try {
        for (const n of names) opened.push(await openObjectRef(n, connection));
        const handles: Waitable[] = opened.map((o) => o.handle);
        const what = names.join(opts.all ? ' and ' : ' or ');
        if (opts.all) {
          const status = await waitAll(handles, timeoutMs);
          exitForStatus(status, what, timeoutMs);
          // A mutex is owned by ntipc's connection now: give it back rather than abandon it on exit.
          for (const o of opened) if (o.kind === 'mutex') await (o.handle as Mutex).release();
        } else {
          const r = await waitAny(handles, timeoutMs);
          exitForStatus(r.status, r.status === 'timeout' ? what : names[r.index]!, timeoutMs);
          const hit = opened[r.index]!;
          if (hit.kind === 'mutex') await (hit.handle as Mutex).release();
          process.stdout.write(`${hit.arg}\n`);
        }
      } finally {
        for (const o of opened) await o.handle.close();
      }
    });

  const event = program.command('event').description('set, reset or pulse a named event');
  for (const [op, text] of [
    ['set', 'SetEvent: signal it (a manual-reset event stays set; an auto-reset one releases one waiter)'],
    ['reset', 'ResetEvent: make it not signaled'],
    ['pulse', 'PulseEvent: release the waiters there are now and leave it reset'],
  ] as const) {
    event
      .command(op)
      .description(text)
      .argument('<name>', 'the event (it must exist)')
      .addHelpText('after', examples(`ntipc event ${op} ready`))
      .action(async (name: string) => {
        const connection = await session.connect();
        let e: Event;
        try {
          e = await Event.open(name, { connection });
        } catch (err) {
          throw explain(err, 'event', name);
        }
        try {
          await e[op]();
        } finally {
          await e.close();
        }
      });
  }

  const mutex = program.command('mutex').description('named mutexes from the shell');
  mutex
    .command('run')
    .description(
      'hold the named mutex while a command runs, release it when the command ends however it ends, and exit with its code. ' +
        'If ntipc itself is killed, the object manager abandons the mutex: the next taker is told (exit code 5)',
    )
    .argument('<name>', 'the mutex (made if missing)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--timeout <ms>', 'give up waiting for the mutex after this long: exit code 4')
    .option('--run-if-abandoned', 'run the command even when the previous owner died holding the mutex (it sees NTIPC_ABANDONED=1)')
    .addHelpText('after', examples('ntipc mutex run deploy -- ./deploy.sh production', 'ntipc mutex run --timeout 0 nightly -- make backup   # skip if one is running'))
    .action(async (name: string, cmd: string[], opts: { timeout?: string; runIfAbandoned?: boolean }) => {
      const timeoutMs = timeoutOf(opts.timeout);
      commandOf(cmd);
      const connection = await session.connect();
      let m: Mutex;
      try {
        m = await Mutex.create(name, { connection });
      } catch (e) {
        throw explain(e, 'mutex', name);
      }
      try {
        const status = await m.wait(timeoutMs);
        if (status === 'timeout') fail(ExitCode.timeout, `timed out after ${timeoutMs} ms waiting for mutex ${name}${await holderOf(m)}`);
        try {
          if (status === 'abandoned' && !opts.runIfAbandoned) {
            fail(ExitCode.abandoned, `mutex ${name} was abandoned: its previous owner ended holding it; not running ${cmd[0]} (the next run takes it; --run-if-abandoned runs anyway)`);
          }
          if (status === 'abandoned') note(`mutex ${name} was abandoned by its previous owner; running ${cmd[0]} all the same`);
          await runHeld(cmd, status === 'abandoned' ? { NTIPC_ABANDONED: '1' } : {});
        } finally {
          await m.release();
        }
      } finally {
        await m.close();
      }
    });

  const sem = program.command('sem').description('named semaphores from the shell');
  sem
    .command('run')
    .description('take one unit of the named semaphore while a command runs (at most --max at once, across terminals), give it back when the command ends, and exit with its code')
    .argument('<name>', 'the semaphore (made with count and maximum --max if missing)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--max <n>', 'how many may run at once, for a semaphore this makes (default 1)')
    .option('--timeout <ms>', 'give up waiting for a unit after this long: exit code 4')
    .addHelpText('after', examples('ntipc sem run --max 4 builds -- make -j2 target', 'find . -name "*.png" | xargs -P 16 -I{} ntipc sem run --max 4 img -- optipng {}'))
    .action(async (name: string, cmd: string[], opts: { max?: string; timeout?: string }) => {
      const max = integerOption(opts.max, '--max', 1) ?? 1;
      const timeoutMs = timeoutOf(opts.timeout);
      commandOf(cmd);
      const connection = await session.connect();
      let s: Semaphore;
      try {
        s = await Semaphore.create(name, { connection, initialCount: max, maximumCount: max });
      } catch (e) {
        throw explain(e, 'semaphore', name);
      }
      try {
        if (s.existed && opts.max !== undefined) {
          const actual = (await s.query()).state.maximum;
          if (actual !== max) note(`semaphore ${name} exists with maximum ${String(actual)}; --max ${max} does not change it`);
        }
        const status = await s.wait(timeoutMs);
        if (status === 'timeout') fail(ExitCode.timeout, `timed out after ${timeoutMs} ms waiting for semaphore ${name}`);
        try {
          await runHeld(cmd, {});
        } finally {
          await s.release();
        }
      } finally {
        await s.close();
      }
    });
}
