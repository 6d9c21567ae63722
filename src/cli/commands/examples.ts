/** `examples`: list the seed examples (examples/NAME/README.md) or run one, with progress on stderr. */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runWithProgress } from '../child-command.ts';
import { ExitCode, examples as exampleText, fail, printJson, printTable } from '../output.ts';
import { packageRoot, requireRepositoryFile, tsxCommand } from '../package-files.ts';

interface Example {
  name: string;
  /** The first line of its README, without the `#`. */
  title: string;
  command: string;
}

function listExamples(): Example[] {
  const dir = requireRepositoryFile('examples', 'the examples');
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(dir, d.name, 'main.ts')))
    .map((d) => {
      const readme = path.join(dir, d.name, 'README.md');
      const first = fs.existsSync(readme) ? (fs.readFileSync(readme, 'utf8').split('\n')[0] ?? '') : '';
      return { name: d.name, title: first.replace(/^#+\s*/, '').trim(), command: `npx tsx examples/${d.name}/main.ts` };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function registerExamples(program: Command): void {
  program
    .command('examples')
    .description('list the seed examples, or run one (its arguments after the name) with progress on stderr')
    .argument('[name]', 'the example to run')
    .argument('[args...]', 'arguments for it (after --: pipe-redirect takes PROGRAM1 = PROGRAM2)')
    .option('--json', 'list as JSON')
    .addHelpText('after', exampleText('ntipc examples', 'ntipc examples mutex-counter', 'ntipc examples pipe-redirect -- ls -l / = sort -k 5 -n'))
    .action(async (name: string | undefined, args: string[], opts: { json?: boolean }) => {
      const all = listExamples();
      if (name === undefined) {
        if (opts.json) printJson(all);
        else printTable(['EXAMPLE', 'WHAT', 'RUN'], all.map((e) => [e.name, e.title, e.command]));
        return;
      }
      if (!all.some((e) => e.name === name)) fail(ExitCode.usage, `no example named ${name}; there are: ${all.map((e) => e.name).join(', ')}`);
      const { command, args: argv } = tsxCommand(path.join('examples', name, 'main.ts'), args);
      process.exitCode = (await runWithProgress(`example ${name}`, command, argv, { cwd: packageRoot })).exitCode;
    });
}
