/**
 * Pipe agents: real child processes running test/fixtures/pipe-agent.ts on a test's own
 * object manager, killed after the test. The fixture is bundled once per test process into
 * one plain .mjs (esbuild, which tsx brings), so that each child starts in a fraction of
 * the time tsx's loader takes: tests that need dozens of processes stay fast on small machines.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withDaemon, type World } from '../fixtures/world.ts';
import type { Agent } from './agent.ts';
import { tempDir } from './daemon.ts';

const fixture = fileURLToPath(new URL('../fixtures/pipe-agent.ts', import.meta.url));
const nodeModules = fileURLToPath(new URL('../../node_modules', import.meta.url));

let bundled: Promise<string> | undefined;

/** The fixture as one .mjs in a temporary directory, removed when this process exits. */
function bundle(): Promise<string> {
  bundled ??= (async () => {
    const { build } = await import('esbuild');
    const dir = tempDir('ntipc-pipe-agent-');
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    const outfile = path.join(dir, 'pipe-agent.mjs');
    // koffi is native: left out of the bundle and found through NODE_PATH.
    await build({ entryPoints: [fixture], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['koffi'], logLevel: 'error' });
    return outfile;
  })();
  return bundled;
}

export interface PipeWorld extends World {
  /** A pipe agent process on this world's object manager. */
  pipeAgent(): Promise<Agent>;
}

export async function withPipeAgents(t: TestContext): Promise<PipeWorld> {
  const world = await withDaemon(t);
  return {
    ...world,
    pipeAgent: async () => world.agent({ module: await bundle(), execArgv: [], env: { NODE_PATH: nodeModules } }),
  };
}
