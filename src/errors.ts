/**
 * The one status table. Every failure ntipc reports has a Win32 name and number here
 * (or an errno name and number for the System V calls); the wire carries the number,
 * {@link IpcError} turns it back into Node's error shape.
 */

/** Win32 status codes, numbered as GetLastError() reports them. */
export const Win32 = {
  ERROR_SUCCESS: [0, 'The operation completed successfully'],
  ERROR_INVALID_FUNCTION: [1, 'Incorrect function'],
  ERROR_FILE_NOT_FOUND: [2, 'The system cannot find the file specified'],
  ERROR_PATH_NOT_FOUND: [3, 'The system cannot find the path specified'],
  ERROR_ACCESS_DENIED: [5, 'Access is denied'],
  ERROR_INVALID_HANDLE: [6, 'The handle is invalid'],
  ERROR_NOT_ENOUGH_MEMORY: [8, 'Not enough memory resources are available to process this command'],
  ERROR_SHARING_VIOLATION: [32, 'The process cannot access the file because it is being used by another process'],
  ERROR_BAD_NETPATH: [53, 'The network path was not found'],
  ERROR_NOT_SUPPORTED: [50, 'The request is not supported'],
  ERROR_INVALID_PARAMETER: [87, 'The parameter is incorrect'],
  ERROR_BROKEN_PIPE: [109, 'The pipe has been ended'],
  ERROR_DISK_FULL: [112, 'There is not enough space on the disk'],
  ERROR_SEM_TIMEOUT: [121, 'The semaphore timeout period has expired'],
  ERROR_INSUFFICIENT_BUFFER: [122, 'The data area passed to a system call is too small'],
  ERROR_INVALID_NAME: [123, 'The filename, directory name, or volume label syntax is incorrect'],
  ERROR_ALREADY_EXISTS: [183, 'Cannot create a file when that file already exists'],
  ERROR_FILENAME_EXCED_RANGE: [206, 'The filename or extension is too long'],
  ERROR_BAD_PIPE: [230, 'The pipe state is invalid'],
  ERROR_PIPE_BUSY: [231, 'All pipe instances are busy'],
  ERROR_NO_DATA: [232, 'The pipe is being closed'],
  ERROR_PIPE_NOT_CONNECTED: [233, 'No process is on the other end of the pipe'],
  ERROR_MORE_DATA: [234, 'More data is available'],
  ERROR_NOT_OWNER: [288, 'Attempt to release mutex not owned by caller'],
  ERROR_TOO_MANY_POSTS: [298, 'Too many posts were made to a semaphore'],
  ERROR_INVALID_ADDRESS: [487, 'Attempt to access invalid address'],
  ERROR_PIPE_CONNECTED: [535, 'There is a process on other end of the pipe'],
  ERROR_PIPE_LISTENING: [536, 'Waiting for a process to open the other end of the pipe'],
  ERROR_OPERATION_ABORTED: [995, 'The I/O operation has been aborted because of either a thread exit or an application request'],
  ERROR_FILE_INVALID: [1006, 'The volume for a file has been externally altered so that the opened file is no longer valid'],
  ERROR_IO_DEVICE: [1117, 'The request could not be performed because of an I/O device error'],
  ERROR_MAPPED_ALIGNMENT: [1132, 'The base address or the file offset specified does not have the proper alignment'],
  ERROR_NOT_FOUND: [1168, 'Element not found'],
  ERROR_POSSIBLE_DEADLOCK: [1131, 'A potential deadlock condition has been detected'],
  ERROR_NOT_ENOUGH_QUOTA: [1816, 'Not enough quota is available to process this command'],
  ERROR_SERVICE_NOT_ACTIVE: [1062, 'The service has not been started'],
  ERROR_CONNECTION_ABORTED: [1236, 'The network connection was aborted by the local system'],
  ERROR_REVISION_MISMATCH: [1306, 'Indicates two revision levels are incompatible'],
  ERROR_FILE_CORRUPT: [1392, 'The file or directory is corrupted and unreadable'],
  ERROR_TIMEOUT: [1460, 'This operation returned because the timeout period expired'],
} as const satisfies Record<string, readonly [number, string]>;

/**
 * errno values for the System V calls (Linux numbering). On the wire they are offset by
 * {@link ERRNO_BASE} so that they never collide with a Win32 number.
 */
export const Errno = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  E2BIG: [7, 'Argument list too long'],
  EAGAIN: [11, 'Resource temporarily unavailable'],
  ENOMEM: [12, 'Cannot allocate memory'],
  EACCES: [13, 'Permission denied'],
  EEXIST: [17, 'File exists'],
  EINVAL: [22, 'Invalid argument'],
  ENOSPC: [28, 'No space left on device'],
  EIDRM: [43, 'Identifier removed'],
  ENOMSG: [42, 'No message of desired type'],
} as const satisfies Record<string, readonly [number, string]>;

export type Win32Code = keyof typeof Win32;
export type ErrnoCode = keyof typeof Errno;
export type StatusCode = Win32Code | ErrnoCode;

/** Wire status of an errno code: ERRNO_BASE + errno. */
export const ERRNO_BASE = 0x2000_0000;

const byWire = new Map<number, StatusCode>();
for (const [code, [n]] of Object.entries(Win32)) byWire.set(n, code as Win32Code);
for (const [code, [n]] of Object.entries(Errno)) byWire.set(ERRNO_BASE + n, code as ErrnoCode);

/** The number that travels on the wire for a status code. */
export function wireStatus(code: StatusCode): number {
  return code in Win32 ? Win32[code as Win32Code][0] : ERRNO_BASE + Errno[code as ErrnoCode][0];
}

/** The status code for a wire number, or undefined for a number not in the table. */
export function statusFromWire(n: number): StatusCode | undefined {
  return byWire.get(n);
}

function entry(code: StatusCode): readonly [number, string] {
  return code in Win32 ? Win32[code as Win32Code] : Errno[code as ErrnoCode];
}

/**
 * The one error class of ntipc, in Node's shape: `code` is the Win32 (or errno) name,
 * `errno` its positive number as GetLastError() would report it, `syscall` the operation.
 */
export class IpcError extends Error {
  readonly code: StatusCode;
  readonly errno: number;
  declare syscall?: string;
  declare path?: string;

  constructor(code: StatusCode, syscall?: string, path?: string, detail?: string) {
    const [errno, text] = entry(code);
    const where = [syscall, path].filter(Boolean).join(' ');
    super(`${code} (${errno}): ${text}${where ? ` [${where}]` : ''}${detail ? `: ${detail}` : ''}`);
    this.name = 'IpcError';
    this.code = code;
    this.errno = errno;
    if (syscall !== undefined) this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }

  /** Build from a wire status number; an unknown number becomes ERROR_INVALID_FUNCTION. */
  static fromWire(status: number, syscall?: string, path?: string): IpcError {
    return new IpcError(statusFromWire(status) ?? 'ERROR_INVALID_FUNCTION', syscall, path);
  }
}

/** Thrown inside the kernel for a failed request; the session turns it into an error reply. */
export class StatusError extends Error {
  constructor(
    readonly code: StatusCode,
    readonly detail?: string,
  ) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'StatusError';
  }
}

/** Fail with `code` unless `condition` holds. */
export function check(condition: unknown, code: StatusCode, detail?: string): asserts condition {
  if (!condition) throw new StatusError(code, detail);
}
