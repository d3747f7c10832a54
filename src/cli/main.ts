import { errorMessage } from '../core/errors';
import { parseArgs, type CliCommand, type CliIO } from './args';

declare const __VERSION__: string;
export const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

/**
 * Every subcommand: its name and summary, and how to load it. A command's module (and the core
 * modules it uses) is evaluated only when that command runs, so `--version`, `--help` and a small
 * lint do not pay for the whole bundle. A new command is a file in commands/ and a row here.
 */
export const COMMANDS: { name: string; summary: string; load(): Promise<CliCommand> }[] = [
  { name: 'validate', summary: 'check a hailo.json project file', load: async () => (await import('./commands/validate')).validateCommand },
  { name: 'export', summary: 'export a PyTorch model to ONNX with a source map', load: async () => (await import('./commands/export')).exportCommand },
  { name: 'lint', summary: 'check an ONNX model for the Hailo Dataflow Compiler', load: async () => (await import('./commands/lint')).lintCommand },
  { name: 'check-alls', summary: 'check .alls model scripts (syntax, commands, values, layer names)', load: async () => (await import('./commands/checkAlls')).checkAllsCommand },
  { name: 'parse-log', summary: 'show what a Hailo DFC console log says (steps, errors, contexts)', load: async () => (await import('./commands/parseLog')).parseLogCommand },
  { name: 'diff', summary: 'what the Hailo compiler did to an ONNX model (rewrite ledger)', load: async () => (await import('./commands/diff')).diffCommand },
  { name: 'remote', summary: 'run DFC steps on a compile target over SSH; check targets; list runs', load: async () => (await import('./commands/remote')).remoteCommand },
];

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
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    io.err(`hailo-workbench: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const cmd = await entry.load();
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
