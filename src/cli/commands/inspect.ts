/**
 * `ls`, `ps`, `pipes`, `why`: the object manager's own view (WinObj, handle.exe, pipelist),
 * from one `inspect` snapshot each. A caller sees what it could open.
 */
import type { Command } from 'commander';
import { inspect, type InspectedObject, type Snapshot } from '../../client/index.ts';
import { maxInstances, objectLabel, objectType, pendingVerb, stateSummary, threadName, waitedFor } from '../object-summary.ts';
import { ExitCode, examples, fail, integerOption, printJson, printTable } from '../output.ts';
import type { Session } from '../session.ts';
import { explainWaits, formatWhy } from '../wait-chain.ts';

const hex = (n: number) => `0x${n.toString(16)}`;

function printProcesses(snapshot: Snapshot): void {
  const objects = new Map(snapshot.objects.map((o) => [o.id, o]));
  const out: string[] = [];
  for (const p of snapshot.processes) {
    out.push(`pid ${p.pid}: ${p.threads.length} thread${p.threads.length === 1 ? '' : 's'}, ${p.handles.length} handle${p.handles.length === 1 ? '' : 's'}`);
    for (const t of p.threads) {
      const owns = t.owns.length === 0 ? '' : `, owns ${t.owns.map((id) => objectLabel(objects.get(id), id)).join(', ')}`;
      const waits = t.waits
        .map((w) => `, ${pendingVerb(w.request)} ${w.objectIds.length === 0 ? 'an object not listed' : w.objectIds.map((id) => objectLabel(objects.get(id), id)).join(w.all ? ' and ' : ' or ')} for ${waitedFor(snapshot, w.sinceMs)}`)
        .join('');
      out.push(`  thread ${t.threadId} (${t.agent})${owns}${waits}`);
    }
    for (const h of p.handles) out.push(`  handle ${hex(h.handle).padEnd(6)} ${h.type.padEnd(13)} ${h.name ?? `#${h.objectId}`}  access ${hex(h.access)}`);
  }
  process.stdout.write(out.length === 0 ? 'no processes\n' : `${out.join('\n')}\n`);
}

/** The named pipes of a snapshot, each with its server instances (the listing has one object per instance). */
function pipesOf(snapshot: Snapshot) {
  const byName = new Map<string, InspectedObject[]>();
  for (const o of snapshot.objects) {
    if (o.type !== 'NamedPipe' || o.state.end !== 'server' || o.name === null) continue;
    const key = o.name.toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), o]);
  }
  return [...byName.values()].map((ends) => {
    const first = ends[0]!;
    return {
      name: first.name!,
      type: String(first.state.pipeType),
      direction: String(first.state.direction),
      instances: ends.length,
      maxInstances: first.state.maxInstances,
      listening: ends.filter((e) => e.state.state === 'listening').length,
      ends: ends.map((e) => ({ id: e.id, state: String(e.state.state), serverPid: e.state.serverPid, clientPid: e.state.clientPid ?? null, waiting: e.waiting })),
    };
  });
}

function printPipes(pipes: ReturnType<typeof pipesOf>): void {
  if (pipes.length === 0) return void process.stdout.write('no named pipes\n');
  printTable(
    ['PIPE', 'INSTANCES', 'MAX', 'LISTENING', 'TYPE', 'DIRECTION', 'INSTANCE STATES'],
    pipes.map((p) => [
      p.name,
      String(p.instances),
      maxInstances(p.maxInstances),
      String(p.listening),
      p.type,
      p.direction,
      p.ends.map((e) => `${e.state} (server pid ${String(e.serverPid)}${e.clientPid === null ? '' : `, client pid ${String(e.clientPid)}`})`).join('; '),
    ]),
  );
}

export function registerInspect(program: Command, session: Session): void {
  const snapshot = async (filter: { type?: Snapshot['objects'][number]['type']; pattern?: string; pid?: number } = {}) =>
    inspect({ ...filter, connection: await session.connect() });

  program
    .command('ls')
    .description('list the objects: type, name, state, handles, waiters (WinObj)')
    .argument('[pattern]', 'only names matching this glob (* and ?), case-insensitive')
    .option('--type <type>', 'only this type: mutex, sem, event, timer, process, section, pipe, mailslot, mq')
    .option('--all', 'unnamed objects too')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ntipc ls', "ntipc ls --type mutex 'inventory*'", 'ntipc ls --json | jq ".[].name"'))
    .action(async (pattern: string | undefined, opts: { type?: string; all?: boolean; json?: boolean }) => {
      const type = opts.type === undefined ? undefined : objectType(opts.type);
      const s = await snapshot({ type, pattern });
      const objects = s.objects.filter((o) => opts.all || pattern !== undefined || o.name !== null);
      if (opts.json) return printJson(objects);
      if (objects.length === 0) return void process.stdout.write('no objects\n');
      printTable(
        ['TYPE', 'NAME', 'STATE', 'HANDLES', 'WAITERS'],
        objects.map((o) => [o.type, o.name ?? `#${o.id}`, stateSummary(o), String(o.handles), o.waiting.length === 0 ? '0' : `${o.waiting.length}: ${o.waiting.map(threadName).join(', ')}`]),
      );
    });

  program
    .command('ps')
    .description('list the processes connected to the object manager: their threads (what each owns and waits on) and handles (handle.exe)')
    .option('--pid <pid>', 'only this process')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ntipc ps', 'ntipc ps --pid 4242 --json'))
    .action(async (opts: { pid?: string; json?: boolean }) => {
      const pid = integerOption(opts.pid, '--pid', 1);
      const s = await snapshot(pid === undefined ? {} : { pid });
      const processes = pid === undefined ? s.processes : s.processes.filter((p) => p.pid === pid);
      if (pid !== undefined && processes.length === 0) fail(ExitCode.failure, `no process ${pid} is connected to the object manager`);
      if (opts.json) return printJson(processes);
      printProcesses({ ...s, processes });
    });

  program
    .command('pipes')
    .description('list the named pipes and their instances (pipelist)')
    .argument('[pattern]', 'only pipes whose name matches this glob')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ntipc pipes', "ntipc pipes '*calc*' --json"))
    .action(async (pattern: string | undefined, opts: { json?: boolean }) => {
      const pipes = pipesOf(await snapshot({ type: 'NamedPipe', pattern }));
      if (opts.json) return printJson(pipes);
      printPipes(pipes);
    });

  program
    .command('why')
    .description('what the threads of a process wait on, who holds each object, what that holder waits on, to the end of the chain; deadlock cycles are reported')
    .argument('<pid>', 'the process')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ntipc why 4242', 'ntipc why $(pgrep -f worker.js) --json'))
    .action(async (pidArg: string, opts: { json?: boolean }) => {
      const pid = integerOption(pidArg, 'PID', 1)!;
      const s = await snapshot();
      const report = explainWaits(s, pid);
      if (report === undefined) fail(ExitCode.failure, `no process ${pid} is connected to the object manager`);
      if (opts.json) return printJson(report);
      process.stdout.write(`${formatWhy(report, s).join('\n')}\n`);
    });
}
