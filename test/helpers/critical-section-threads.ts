/**
 * Worker threads running test/fixtures/critical-section-thread.ts, driven step by step:
 * `call(op, ...args)` resolves with the op's value or rejects with its error code.
 */
import { spawnThreadAgent, type ThreadAgent } from './thread-agent.ts';

export type CsThread = ThreadAgent;

const agent = new URL('../fixtures/critical-section-thread.ts', import.meta.url).href;

/** Start a thread and attach it to the critical section of `state`. */
export async function spawnCsThread(state: unknown): Promise<CsThread> {
  const thread = await spawnThreadAgent(agent);
  await thread.call('attach', state);
  return thread;
}

/** Resolve once `condition()` holds, checking every millisecond (a state to reach, not a delay). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
}
