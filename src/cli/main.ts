import { errorMessage } from '../core/errors';
import { parseArgs, type CliCommand, type CliIO } from './args';
import { validateCommand } from './commands/validate';
import { exportCommand } from './commands/export';
import { lintCommand } from './commands/lint';
import { checkAllsCommand } from './commands/checkAlls';
import { parseLogCommand } from './commands/parseLog';
import { diffCommand } from './commands/diff';
import { remoteCommand } from './commands/remote';
import { fidelityCommand } from './commands/fidelity';

declare const __VERSION__: string;
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

/** Every subcommand; later features add theirs here. */
export const COMMANDS: CliCommand[] = [validateCommand, exportCommand, lintCommand, checkAllsCommand, parseLogCommand, diffCommand, remoteCommand, fidelityCommand];

function usage(): string {
  const lines = [
    `hailo-workbench ${VERSION}: Hailo model tooling from the command line`,
    '',
    'Usage: hailo-workbench <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    '',
    'Options: --version, --help; `hailo-workbench <command> --help` for a command\'s options.',
    'Exit codes: 0 ok, 1 problems found, 2 cannot run (bad arguments or unreadable input).',
  ];
  return lines.join('\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(VERSION);
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`hailo-workbench: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const args = parseArgs(rest, cmd.options);
    if (args.flags.help) {
      io.out(cmd.help);
      return 0;
    }
    return await cmd.run(args, io);
  } catch (e) {
    io.err(`hailo-workbench ${name}: ${errorMessage(e)}`);
    return 2;
  }
}

if (require.main === module) {
  const io: CliIO = {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    cwd: process.cwd(),
    env: process.env,
  };
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  io.signal = ac.signal;
  main(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    (e) => { io.err(String(e)); process.exitCode = 2; },
  );
}
