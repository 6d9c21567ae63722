/**
 * ntipc: the Windows NT model of IPC and synchronization for Node.js. This is the curated
 * public export list; everything here is documented in docs/.
 */
export { IpcError, Win32, Errno, type StatusCode, type Win32Code, type ErrnoCode } from '../errors.ts';
export { Access } from '../protocol/access.ts';
export type { ObjectInfo, BrokerStatus, WaitStatus } from '../protocol/schema.ts';
export { Connection, connect, defaultConnection, brokerStatus, stopBroker, type ConnectOptions } from './connection.ts';
export { serveForeground, type ServeOptions } from './launch.ts';
export { KernelHandle, type HandleOptions } from './handle.ts';
export { waitAny, waitAll, signalAndWait, type Waitable, type WaitOptions } from './wait.ts';
export {
  inspect,
  type Snapshot,
  type InspectFilter,
  type InspectedObject,
  type InspectedProcess,
  type InspectedThread,
  type InspectedHandle,
  type ObjectActivity,
  type ThreadRef,
  type WaitForEdge,
  type DeadlockCycle,
} from './inspect.ts';
export { Mutex, type MutexLock } from './mutex.ts';
export { Semaphore } from './semaphore.ts';
export { Event } from './event.ts';
export { WaitableTimer } from './waitable-timer.ts';
export { ProcessHandle } from './process-handle.ts';
export { FileMapping, View, type FileMappingCreateOptions, type FileMappingOpenOptions, type MappingProtect, type ViewAccess } from './file-mapping.ts';
export { CriticalSection, type CriticalSectionState } from './critical-section.ts';
export { createPipe, PipeEnd, type CreatePipeOptions, type PipeAccess, type PipeInfo, type PipePeekResult, type PipeReadResult, type PipeStream, type PipeStreamOptions } from './anonymous-pipe.ts';
export { NamedPipeServer, NamedPipe, NamedPipeEnd, waitNamedPipe, callNamedPipe, MAX_PIPE_QUOTA, type NamedPipeServerOptions, type NamedPipeOpenOptions, type NamedPipeInfo, type NamedPipeState, type PipeWaitTimeout } from './named-pipe.ts';
export { PipeAccess as NamedPipeAccess } from '../protocol/named-pipe.ts';
export { Mailslot, MailslotClient, type MailslotCreateOptions, type MailslotInfo, type MailslotReadOptions } from './mailslot.ts';
export { MessageQueue, MessageQueueLimits, IPC_PRIVATE, type MessageQueueGetOptions, type MessageQueueStat, type MessageQueueReceiveOptions, type MessageQueueMessage, type MessageQueueSendOptions } from './message-queue.ts';
export { socketPath } from '../transport/paths.ts';
