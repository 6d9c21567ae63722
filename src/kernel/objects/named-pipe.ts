/**
 * Named pipes: the control plane. The object manager names pipes, counts their instances,
 * keeps each instance's state and matches a client to a listening instance; the bytes then
 * flow directly between the two processes (client/pipe-channel.ts), never through here.
 *
 * Three kinds of object share this file:
 * - the pipe: `\\.\pipe\PATH` in the namespace (case-insensitive), the direction and the
 *   maximum its first instance fixed, the instances in the order they entered the listening
 *   state, and the WaitNamedPipe callers. It has no handles and is not listed; its instances
 *   and waiters reference it, and it goes (with its name) when the last of them goes.
 * - a server end: one instance, created by createNamedPipe. Listening → connected (a client
 *   matched) → closing (that client closed) → disconnected (DisconnectNamedPipe) → listening
 *   (ConnectNamedPipe) … A fresh instance is listening before any connect, as on Windows.
 * - a client end: what openNamedPipe returns, bound to the instance it connected to until
 *   the server disconnects or closes it.
 *
 * Pending connects do not reference their instance: the instance goes with its last handle,
 * and its pending connects fail then (ERROR_BROKEN_PIPE), as CloseHandle does on Windows.
 */
import { StatusError, check } from '../../errors.ts';
import { parseDeviceName } from '../../names.ts';
import { PipeAccess, PipeDirection, PipeEnd, PipeLimits, PipeMode, PipeState, type PipeStateName } from '../../protocol/named-pipe.ts';
import type { ObjectInfo, RequestOf } from '../../protocol/schema.ts';
import { Access, type AccessMapping } from '../access.ts';
import { PENDING, type Handlers, type Kernel, type RequestContext } from '../kernel.ts';
import { KernelObject, objectDefaults, type ObjectType } from '../object.ts';
import type { PendingRequest } from '../pending.ts';
import { checkTimeout } from '../wait.ts';

/** The namespace key of a pipe: cannot collide with a kernel object's (`Local\…`, `Global\…`). */
const pipeKey = (pathKey: string) => `\\\\.\\pipe\\${pathKey}`;

const directionNames = Object.fromEntries(Object.entries(PipeDirection).map(([k, v]) => [v, k])) as Record<number, string>;
const modeNames = Object.fromEntries(Object.entries(PipeMode).map(([k, v]) => [v, k])) as Record<number, string>;

export class NamedPipeObject extends KernelObject {
  readonly type = namedPipeType;
  /** Live instances, oldest first. */
  readonly instances = new Set<PipeServerObject>();
  /** Listening instances in the order they entered the listening state: clients go to the first. */
  listening: PipeServerObject[] = [];
  /** WaitNamedPipe callers, woken together when an instance starts listening. */
  readonly waitingClients = new Set<PendingRequest<'waitNamedPipe'>>();
  createdName = '';
  direction = 0;
  maxInstances = 0;
  defaultTimeoutMs = 0;

  /** The first instance (again, if all instances went while waiters kept it) fixes these. */
  reset(createdName: string, direction: number, maxInstances: number, defaultTimeoutMs: number): void {
    this.createdName = createdName;
    this.direction = direction;
    this.maxInstances = maxInstances;
    this.defaultTimeoutMs = defaultTimeoutMs;
  }

  override get displayName(): string {
    return this.createdName;
  }
}

/** Creation parameters of one instance, reported verbatim by GetNamedPipeInfo. */
export interface InstanceParams {
  readonly pipeType: number;
  readonly readMode: number;
  readonly maxInstances: number;
  readonly outBufferSize: number;
  readonly inBufferSize: number;
  readonly defaultTimeoutMs: number;
}

interface PendingConnect {
  readonly request: PendingRequest<'connectNamedPipe'>;
  /** A client was already there when connect was called (ERROR_PIPE_CONNECTED on Windows). */
  readonly already: boolean;
}

/** One instance: the server end. */
export class PipeServerObject extends KernelObject {
  readonly type = pipeEndType;
  readonly end = 'server' as const;
  state: PipeStateName = 'listening';
  /** The client end connected to it (connected, and closing until disconnect: undefined). */
  client: PipeClientObject | undefined;
  /** The client has finished its handshake with the server process (confirmNamedPipe). */
  confirmed = false;
  /** The pid of the last client, kept until disconnect (GetNamedPipeClientProcessId). */
  clientPid = 0;
  /** Presented by the client to the server process's endpoint; one per listening generation. */
  token: string;
  readonly connects: PendingConnect[] = [];
  closed = false;
  constructor(
    readonly pipe: NamedPipeObject,
    readonly serverPid: number,
    readonly endpoint: string,
    token: string,
    readonly params: InstanceParams,
  ) {
    super();
    this.token = token;
  }

  override get displayName(): string {
    return this.pipe.createdName;
  }
}

/** A client's handle: bound to its instance while connected. */
export class PipeClientObject extends KernelObject {
  readonly type = pipeEndType;
  readonly end = 'client' as const;
  state: 'connected' | 'disconnected' | 'closing' = 'connected';
  constructor(
    public server: PipeServerObject | undefined,
    readonly pipe: NamedPipeObject,
    readonly clientPid: number,
    readonly serverPid: number,
    readonly pipeType: number,
  ) {
    super();
  }

  override get displayName(): string {
    return this.pipe.createdName;
  }
}

export type PipeEndObject = PipeServerObject | PipeClientObject;

/** A pipe's handles are file handles: Windows' file rights and generic mapping. */
const pipeAccess: AccessMapping = {
  read: PipeAccess.FILE_GENERIC_READ,
  write: PipeAccess.FILE_GENERIC_WRITE,
  execute: PipeAccess.FILE_GENERIC_EXECUTE,
  all: PipeAccess.FILE_ALL_ACCESS,
};

const notWaitable = () => {
  throw new StatusError('ERROR_INVALID_HANDLE', 'a pipe cannot be waited on');
};

/** The pipe itself: never a handle's object; described for completeness. */
export const namedPipeType: ObjectType<NamedPipeObject> = {
  ...objectDefaults,
  name: 'NamedPipe',
  access: pipeAccess,
  queryRight: PipeAccess.FILE_READ_ATTRIBUTES,
  waitable: false,
  isSignaled: () => false,
  satisfy: notWaitable,
  describe: (p) => ({
    end: null,
    direction: directionNames[p.direction] ?? null,
    maxInstances: p.maxInstances,
    instances: p.instances.size,
    listening: p.listening.length,
    waitingClients: p.waitingClients.size,
  }),
};

/** Server and client ends. Not waitable: connect() and the channel's reads are the waits. */
export const pipeEndType: ObjectType<PipeEndObject> = {
  ...objectDefaults,
  name: 'NamedPipe',
  access: pipeAccess,
  queryRight: PipeAccess.FILE_READ_ATTRIBUTES,
  waitable: false,
  isSignaled: () => false,
  satisfy: notWaitable,
  describe(e): ObjectInfo['state'] {
    if (e.end === 'client') {
      return { end: 'client', state: e.state, pipeType: modeNames[e.pipeType]!, serverPid: e.serverPid, clientPid: e.clientPid };
    }
    const p = e.params;
    return {
      end: 'server',
      state: e.state,
      pipeType: modeNames[p.pipeType]!,
      readMode: modeNames[p.readMode]!,
      direction: directionNames[e.pipe.direction]!,
      instances: e.pipe.instances.size,
      maxInstances: e.pipe.maxInstances,
      serverPid: e.serverPid,
      clientPid: e.clientPid === 0 ? null : e.clientPid,
      outBufferSize: p.outBufferSize,
      inBufferSize: p.inBufferSize,
      defaultTimeoutMs: p.defaultTimeoutMs === Infinity ? null : p.defaultTimeoutMs,
      pendingConnects: e.connects.length,
    };
  },
  destroy(e, kernel) {
    if (e.end === 'server') closeInstance(kernel, e);
    else clientClosed(kernel, e);
  },
};

/** The server's last handle is gone: the instance goes; its client sees a broken pipe. */
function closeInstance(kernel: Kernel, s: PipeServerObject): void {
  s.closed = true;
  const pipe = s.pipe;
  pipe.instances.delete(s);
  pipe.listening = pipe.listening.filter((x) => x !== s);
  failConnects(kernel, s, 'ERROR_BROKEN_PIPE', 'the instance was closed');
  const c = s.client;
  if (c !== undefined) {
    c.server = undefined;
    c.state = 'closing';
    s.client = undefined;
    kernel.changed(c);
  }
  kernel.unref(pipe);
}

/** A client's last handle is gone: its instance, if still connected to it, is closing. */
function clientClosed(kernel: Kernel, c: PipeClientObject): void {
  const s = c.server;
  if (s === undefined) return;
  c.server = undefined;
  s.client = undefined;
  s.state = 'closing';
  kernel.changed(s);
  // A client that never finished its handshake came and went: pending connects see a closing pipe.
  failConnects(kernel, s, 'ERROR_NO_DATA', 'the client closed its end');
}

function failConnects(kernel: Kernel, s: PipeServerObject, code: 'ERROR_BROKEN_PIPE' | 'ERROR_NO_DATA' | 'ERROR_PIPE_NOT_CONNECTED', detail: string): void {
  for (const c of [...s.connects]) kernel.pending.fail(c.request, code, detail);
}

function completeConnects(kernel: Kernel, s: PipeServerObject): void {
  for (const c of [...s.connects]) kernel.pending.complete(c.request, { alreadyConnected: c.already });
}

/** An instance enters the listening state: it goes to the end of the listen order, and waiters wake. */
function startListening(kernel: Kernel, s: PipeServerObject, token: string): void {
  s.state = 'listening';
  s.token = token;
  s.pipe.listening.push(s);
  kernel.changed(s);
  for (const w of [...s.pipe.waitingClients]) kernel.pending.complete(w, {});
}

/** An endpoint address (an abstract socket's starts with NUL) and a token: short, no control characters after the first. */
function checkRendezvous(endpoint: string, token: string): void {
  // eslint-disable-next-line no-control-regex
  const ok = (s: string) => s.length > 0 && s.length <= PipeLimits.MAX_RENDEZVOUS && !/[\u0000-\u001f]/.test(s.slice(1));
  check(ok(endpoint), 'ERROR_INVALID_PARAMETER', 'bad pipe endpoint address');
  check(ok(token) && token.charCodeAt(0) >= 0x20, 'ERROR_INVALID_PARAMETER', 'bad pipe connection token');
}

/** The pipe a name refers to when it has instances, else undefined (a local name is required). */
function findPipe(kernel: Kernel, name: string, badName: 'ERROR_INVALID_NAME' | 'ERROR_PATH_NOT_FOUND'): NamedPipeObject | undefined {
  let parsed;
  try {
    parsed = parseDeviceName(name, 'pipe');
  } catch (e) {
    if (e instanceof StatusError) throw new StatusError(badName, e.detail);
    throw e;
  }
  check(parsed.host === '.', 'ERROR_BAD_NETPATH', `pipes on other machines are not reachable: ${name}`);
  const pipe = kernel.namespace.get(pipeKey(parsed.key)) as NamedPipeObject | undefined;
  return pipe !== undefined && pipe.instances.size > 0 ? pipe : undefined;
}

/** The handle's end, which must be the server's (ERROR_INVALID_FUNCTION for a client's). */
function serverEnd(ctx: RequestContext, handle: number): PipeServerObject {
  const e = ctx.process.handles.get(handle, 0, pipeEndType);
  check(e.end === 'server', 'ERROR_INVALID_FUNCTION', 'not a pipe server handle');
  return e;
}

/** The rights a server's handle has: its direction's data rights, attributes, SYNCHRONIZE. */
function serverRights(direction: number): number {
  let rights = Access.READ_CONTROL | Access.SYNCHRONIZE | PipeAccess.FILE_READ_ATTRIBUTES | PipeAccess.FILE_WRITE_ATTRIBUTES;
  if (direction & PipeDirection.inbound) rights |= PipeAccess.FILE_READ_DATA;
  if (direction & PipeDirection.outbound) rights |= PipeAccess.FILE_WRITE_DATA | PipeAccess.FILE_CREATE_PIPE_INSTANCE;
  return rights;
}

/** Register a new end and give `ctx`'s process a handle to it, or leave no trace. */
function addEnd(ctx: RequestContext, obj: PipeEndObject, rights: number): number {
  ctx.kernel.adopt(obj);
  try {
    return ctx.kernel.addHandle(ctx.process, obj, rights);
  } catch (e) {
    ctx.kernel.objects.delete(obj.id);
    throw e;
  }
}

function createNamedPipe(ctx: RequestContext, req: RequestOf<'createNamedPipe'>) {
  const { name, direction, pipeType, readMode, maxInstances, outBufferSize, inBufferSize, defaultTimeoutMs, endpoint, token } = req;
  check(direction in directionNames, 'ERROR_INVALID_PARAMETER', `pipe direction ${direction}`);
  check(pipeType in modeNames && readMode in modeNames, 'ERROR_INVALID_PARAMETER', `pipe type ${pipeType}, read mode ${readMode}`);
  check(!(pipeType === PipeMode.byte && readMode === PipeMode.message), 'ERROR_INVALID_PARAMETER', 'a byte pipe cannot be read in message mode');
  check(maxInstances >= 1 && maxInstances <= PipeLimits.UNLIMITED_INSTANCES, 'ERROR_INVALID_PARAMETER', `maximum instances ${maxInstances}`);
  checkTimeout(defaultTimeoutMs);
  checkRendezvous(endpoint, token);
  const parsed = parseDeviceName(name, 'pipe');
  check(parsed.host === '.', 'ERROR_INVALID_NAME', `a pipe is created on this machine only (\\\\.\\pipe\\NAME): ${name}`);
  const key = pipeKey(parsed.key);
  let pipe = ctx.kernel.namespace.get(key) as NamedPipeObject | undefined;
  const existed = pipe !== undefined && pipe.instances.size > 0;
  if (existed) {
    const max = pipe!.maxInstances;
    check(max === PipeLimits.UNLIMITED_INSTANCES || pipe!.instances.size < max, 'ERROR_PIPE_BUSY', `${name} has its ${max} instances`);
    // Type, read mode, maximum, sizes and timeout may differ between instances (Windows
    // accepts them and keeps the first's maximum); the direction may not.
    check(pipe!.direction === direction, 'ERROR_ACCESS_DENIED', `${name} is ${directionNames[pipe!.direction]}`);
  }
  const fresh = pipe === undefined;
  if (fresh) pipe = new NamedPipeObject();
  const p = pipe!;
  const params: InstanceParams = { pipeType, readMode, maxInstances, outBufferSize, inBufferSize, defaultTimeoutMs };
  const s = new PipeServerObject(p, ctx.process.pid, endpoint, token, params);
  const handle = addEnd(ctx, s, serverRights(direction));
  if (fresh) ctx.kernel.namespace.insert(key, p);
  if (!existed) p.reset(`\\\\.\\pipe\\${parsed.path}`, direction, maxInstances, defaultTimeoutMs);
  ctx.kernel.ref(p);
  p.instances.add(s);
  s.state = 'disconnected';
  startListening(ctx.kernel, s, token);
  return { handle, objectId: s.id, existed, maxInstances: p.maxInstances };
}

function openNamedPipe(ctx: RequestContext, { name, access }: RequestOf<'openNamedPipe'>) {
  const pipe = findPipe(ctx.kernel, name, 'ERROR_INVALID_NAME');
  check(pipe !== undefined, 'ERROR_FILE_NOT_FOUND', name);
  const granted = (access & Access.MAXIMUM_ALLOWED) !== 0 ? clientMaximum(pipe.direction) : grantedAccess(access);
  check(!(granted & PipeAccess.FILE_READ_DATA) || pipe.direction & PipeDirection.outbound, 'ERROR_ACCESS_DENIED', `${name} is inbound: its client cannot read`);
  check(!(granted & PipeAccess.FILE_WRITE_DATA) || pipe.direction & PipeDirection.inbound, 'ERROR_ACCESS_DENIED', `${name} is outbound: its client cannot write`);
  const s = pipe.listening[0];
  check(s !== undefined, 'ERROR_PIPE_BUSY', `no instance of ${name} is listening`);
  const c = new PipeClientObject(s, pipe, ctx.process.pid, s.serverPid, s.params.pipeType);
  const handle = addEnd(ctx, c, granted);
  pipe.listening.shift();
  ctx.kernel.changed(s);
  s.state = 'connected';
  s.client = c;
  s.confirmed = false;
  s.clientPid = ctx.process.pid;
  const p = s.params;
  return {
    handle,
    objectId: c.id,
    access: granted,
    serverPid: s.serverPid,
    endpoint: s.endpoint,
    token: s.token,
    direction: pipe.direction,
    pipeType: p.pipeType,
    maxInstances: pipe.maxInstances,
    outBufferSize: p.outBufferSize,
    inBufferSize: p.inBufferSize,
  };
}

function grantedAccess(desired: number): number {
  let granted = desired & 0x00ff_ffff;
  if (desired & Access.GENERIC_READ) granted |= pipeAccess.read;
  if (desired & Access.GENERIC_WRITE) granted |= pipeAccess.write;
  if (desired & Access.GENERIC_EXECUTE) granted |= pipeAccess.execute;
  if (desired & Access.GENERIC_ALL) granted |= pipeAccess.all;
  return granted & pipeAccess.all;
}

/** MAXIMUM_ALLOWED for a client: every right the pipe's direction lets it have. */
function clientMaximum(direction: number): number {
  let rights = pipeAccess.all;
  if (!(direction & PipeDirection.outbound)) rights &= ~PipeAccess.FILE_READ_DATA;
  if (!(direction & PipeDirection.inbound)) rights &= ~(PipeAccess.FILE_WRITE_DATA | PipeAccess.FILE_CREATE_PIPE_INSTANCE);
  return rights;
}

function connectNamedPipe(ctx: RequestContext, { handle, token }: RequestOf<'connectNamedPipe'>) {
  const s = serverEnd(ctx, handle);
  let already = false;
  switch (s.state) {
    case 'closing':
      throw new StatusError('ERROR_NO_DATA', 'the client has closed its end: disconnect first');
    case 'connected':
      if (s.confirmed) return { alreadyConnected: true };
      already = true;
      break;
    case 'disconnected':
      checkRendezvous(s.endpoint, token);
      startListening(ctx.kernel, s, token);
      break;
    case 'listening':
      break;
  }
  const request = ctx.kernel.pending.begin(ctx.thread, ctx.requestId, 'connectNamedPipe', {
    subject: s,
    timeoutMs: Infinity,
    onTimeout: () => ({ fail: 'ERROR_SEM_TIMEOUT' }),
    detach: (p) => {
      const i = s.connects.findIndex((c) => c.request === p);
      if (i >= 0) s.connects.splice(i, 1);
    },
  });
  s.connects.push({ request, already });
  return PENDING;
}

function disconnectNamedPipe(ctx: RequestContext, { handle }: RequestOf<'disconnectNamedPipe'>) {
  const s = serverEnd(ctx, handle);
  check(s.state !== 'disconnected', 'ERROR_PIPE_NOT_CONNECTED', 'the instance is already disconnected');
  if (s.state === 'listening') s.pipe.listening = s.pipe.listening.filter((x) => x !== s);
  const c = s.client;
  if (c !== undefined) {
    c.server = undefined;
    c.state = 'disconnected';
    s.client = undefined;
    ctx.kernel.changed(c);
  }
  ctx.kernel.changed(s);
  s.state = 'disconnected';
  s.confirmed = false;
  s.clientPid = 0;
  s.token = '';
  failConnects(ctx.kernel, s, 'ERROR_PIPE_NOT_CONNECTED', 'the instance was disconnected');
  return {};
}

function confirmNamedPipe(ctx: RequestContext, { handle }: RequestOf<'confirmNamedPipe'>) {
  const c = ctx.process.handles.get(handle, 0, pipeEndType);
  check(c.end === 'client', 'ERROR_INVALID_FUNCTION', 'not a pipe client handle');
  const s = c.server;
  if (s !== undefined && !s.confirmed) {
    s.confirmed = true;
    ctx.kernel.changed(s);
    completeConnects(ctx.kernel, s);
  }
  return {};
}

function waitNamedPipe(ctx: RequestContext, { name, timeoutMs, useDefault }: RequestOf<'waitNamedPipe'>) {
  if (!useDefault) checkTimeout(timeoutMs);
  const pipe = findPipe(ctx.kernel, name, 'ERROR_PATH_NOT_FOUND');
  check(pipe !== undefined, 'ERROR_FILE_NOT_FOUND', name);
  if (pipe.listening.length > 0) return {};
  const timeout = useDefault ? pipe.defaultTimeoutMs || PipeLimits.DEFAULT_WAIT_MS : timeoutMs;
  check(timeout > 0, 'ERROR_SEM_TIMEOUT', `no instance of ${name} is listening`);
  const request = ctx.kernel.pending.begin(ctx.thread, ctx.requestId, 'waitNamedPipe', {
    object: pipe,
    timeoutMs: timeout,
    onTimeout: () => ({ fail: 'ERROR_SEM_TIMEOUT', detail: `no instance of ${name} listened in time` }),
    detach: (p) => void pipe.waitingClients.delete(p),
  });
  pipe.waitingClients.add(request);
  return PENDING;
}

function queryNamedPipe(ctx: RequestContext, { handle }: RequestOf<'queryNamedPipe'>) {
  const e = ctx.process.handles.get(handle, PipeAccess.FILE_READ_ATTRIBUTES, pipeEndType);
  if (e.end === 'client') {
    check(e.state !== 'disconnected', 'ERROR_PIPE_NOT_CONNECTED', 'the server has disconnected this client');
    const s = e.server;
    return {
      end: PipeEnd.client,
      pipeState: PipeState[e.state],
      pipeType: e.pipeType,
      currentInstances: e.pipe.instances.size,
      maxInstances: e.pipe.maxInstances,
      serverPid: e.serverPid,
      clientPid: e.clientPid,
      outBufferSize: s?.params.outBufferSize ?? 0,
      inBufferSize: s?.params.inBufferSize ?? 0,
    };
  }
  return {
    end: PipeEnd.server,
    pipeState: PipeState[e.state],
    pipeType: e.params.pipeType,
    currentInstances: e.pipe.instances.size,
    maxInstances: e.pipe.maxInstances,
    serverPid: e.serverPid,
    clientPid: e.clientPid,
    outBufferSize: e.params.outBufferSize,
    inBufferSize: e.params.inBufferSize,
  };
}

export const namedPipeHandlers = {
  createNamedPipe,
  openNamedPipe,
  connectNamedPipe,
  disconnectNamedPipe,
  confirmNamedPipe,
  waitNamedPipe,
  queryNamedPipe,
} satisfies Partial<Handlers>;
