/**
 * Named pipes on the control-plane wire: the codes of the pipe requests in schema.ts and the
 * file rights of a pipe handle, numbered as Windows numbers them. The object manager and the
 * client both read them from here.
 */
import { Access } from './access.ts';

/** A pipe's direction, as CreateNamedPipe's open mode says it (PIPE_ACCESS_*). */
export const PipeDirection = { inbound: 1, outbound: 2, duplex: 3 } as const;
export type PipeDirectionName = keyof typeof PipeDirection;

/** Byte or message, for a pipe's type and an end's read mode (PIPE_TYPE_*, PIPE_READMODE_* shifted down). */
export const PipeMode = { byte: 0, message: 1 } as const;
export type PipeModeName = keyof typeof PipeMode;

/** An instance's state, as NT numbers it (FilePipeLocalInformation.NamedPipeState). */
export const PipeState = { disconnected: 1, listening: 2, connected: 3, closing: 4 } as const;
export type PipeStateName = keyof typeof PipeState;

/** Which end a handle is (PIPE_CLIENT_END 0, PIPE_SERVER_END 1). */
export const PipeEnd = { client: 0, server: 1 } as const;

/** The file rights of a pipe handle. */
export const PipeAccess = {
  FILE_READ_DATA: 0x0001,
  FILE_WRITE_DATA: 0x0002,
  /** FILE_APPEND_DATA's bit: the right to create another instance. */
  FILE_CREATE_PIPE_INSTANCE: 0x0004,
  FILE_READ_ATTRIBUTES: 0x0080,
  FILE_WRITE_ATTRIBUTES: 0x0100,
  /** What GENERIC_READ grants on a pipe: READ_CONTROL, SYNCHRONIZE, read data, attributes, EA. */
  FILE_GENERIC_READ: 0x0012_0089,
  FILE_GENERIC_WRITE: 0x0012_0116,
  FILE_GENERIC_EXECUTE: 0x0012_00a0,
  FILE_ALL_ACCESS: 0x001f_01ff,
  SYNCHRONIZE: Access.SYNCHRONIZE,
} as const;

/** Limits and defaults of named pipes. */
export const PipeLimits = {
  /** nMaxInstances for "as many as resources allow" (PIPE_UNLIMITED_INSTANCES). */
  UNLIMITED_INSTANCES: 255,
  /** WaitNamedPipe's default wait for a pipe created with a default timeout of 0 (ms). */
  DEFAULT_WAIT_MS: 50,
  /** Longest endpoint address or connection token the object manager keeps for an instance. */
  MAX_RENDEZVOUS: 256,
} as const;
