/**
 * Parent side of test/fixtures/agent.ts: a real child process that runs ntipc operations
 * on command, so a test can drive several processes step by step without sleeping.
 */
import { fileURLToPath } from 'node:url';
import { forkChild, type Child, type ForkOptions } from './child-rpc.ts';

const agentPath = fileURLToPath(new URL('../fixtures/agent.ts', import.meta.url));

export type Agent = Child;

export interface AgentOptions extends ForkOptions {
  /** Another fixture speaking the same protocol (default: test/fixtures/agent.ts). */
  module?: string;
}

/** An agent on the object manager at `socketPath` (never starting one of its own). */
export function spawnAgent(socketPath: string, opts: AgentOptions = {}): Promise<Agent> {
  return forkChild(opts.module ?? agentPath, { ...opts, env: { ...opts.env, NTIPC_SOCKET: socketPath, NTIPC_NO_START: '1' } });
}
