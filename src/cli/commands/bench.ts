/** `bench`: run the benchmarks of bench/ (the source repository), with progress on stderr. */
import type { Command } from 'commander';
import { runWithProgress } from '../child-command.ts';
import { examples, integerOption, usage } from '../output.ts';
import { packageRoot, requireRepositoryFile, tsxCommand } from '../package-files.ts';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmarks (all, or the ones named by result id or file name); progress on stderr, the table on stdout; about 5 minutes for all')
    .argument('[ids...]', 'result ids (sync.event-pingpong) or file names (sync); default: all')
    .option('--rounds <n>', 'measured rounds after the warm-up (default 7)')
    .option('--scale <x>', 'scale the work of each round (default 1; 0.3 for a quick smoke run)')
    .addHelpText('after', examples('ntipc bench', 'ntipc bench sync.event-pingpong pipe.transact', 'ntipc bench --rounds 3 --scale 0.3'))
    .action(async (ids: string[], opts: { rounds?: string; scale?: string }) => {
      const file = requireRepositoryFile('bench/run.ts', 'the benchmarks');
      const rounds = integerOption(opts.rounds, '--rounds', 1);
      if (opts.scale !== undefined && !(Number(opts.scale) > 0)) usage(`--scale takes a number > 0, not ${JSON.stringify(opts.scale)}`);
      const extra = [...(rounds !== undefined ? ['--rounds', String(rounds)] : []), ...(opts.scale !== undefined ? ['--scale', opts.scale] : [])];
      const { command, args } = tsxCommand(file, [...ids, ...extra]);
      const label = `bench ${ids.length === 0 ? '(all)' : ids.join(' ')}`;
      process.exitCode = (await runWithProgress(label, command, args, { cwd: packageRoot, everyMs: 15_000 })).exitCode;
    });
}
