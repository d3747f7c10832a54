import { errorMessage, isHailoError } from '../core/errors';
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
  {
    name: 'check-alls',
    summary: 'check .alls model scripts (syntax, commands, values, layer names)',
    load: async () => (await import('./commands/checkAlls')).checkAllsCommand,
  },
  {
    name: 'parse-log',
    summary: 'show what a Hailo DFC or hailortcli console log says (steps, errors, contexts, FPS, latency)',
    load: async () => (await import('./commands/parseLog')).parseLogCommand,
  },
  { name: 'diff', summary: 'what the Hailo compiler did to an ONNX model (rewrite ledger)', load: async () => (await import('./commands/diff')).diffCommand },
  {
    name: 'fidelity',
    summary: 'compare the ONNX model with the PyTorch model on real inputs',
    load: async () => (await import('./commands/fidelity')).fidelityCommand,
  },
  {
    name: 'remote',
    summary: 'run DFC steps on a compile target over SSH; check targets; list runs',
    load: async () => (await import('./commands/remote')).remoteCommand,
  },
  {
    name: 'sweep',
    summary: 'export, lint and compile every variant of a sweep (a Slurm job array, or one by one over SSH)',
    load: async () => (await import('./commands/sweep')).sweepCommand,
  },
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
    "Options: --version, --help; `hailo-workbench <command> --help` for a command's options.",
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
    io.err(`hailo-workbench ${name}: ${describeFailure(e)}`);
    return 2;
  }
}

/**
 * A typed error (HailoError, or a Node system error with a code) is shown as it is; anything
 * else is a defect in this tool and is labelled so, with its stack, never passed off as a finding.
 */
export function describeFailure(e: unknown): string {
  if (isHailoError(e) || (e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string')) return errorMessage(e);
  const stack = e instanceof Error && e.stack ? `\n${e.stack}` : '';
  return `internal error: ${errorMessage(e)}${stack}`;
}

/**
 * Runs the CLI as a process. The exit code is set only once the command has returned and its
 * output is handed to stdout; every other way out is an error exit:
 * - the event loop emptying while the command is still pending (a read that never settles) is
 *   reported and exits 2, never 0;
 * - an unhandled rejection or uncaught exception exits 2 with "internal error";
 * - a closed stdout pipe (`... | head`) ends the process quietly with 0, like other CLIs.
 */
export function runProcess(argv: string[]): void {
  const io: CliIO = {
    out: (s) => void process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
    err: (s) => void process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    cwd: process.cwd(),
    env: process.env,
  };
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  io.signal = ac.signal;
  let settled = false;
  const command = argv[0] ?? '';
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    process.stderr.write(`hailo-workbench ${command}: cannot write the output (${e.code ?? e.message})\n`);
    process.exit(2);
  });
  process.on('unhandledRejection', (e) => {
    io.err(`hailo-workbench ${command}: ${describeFailure(e).replace(/^(?!internal error)/, 'internal error: ')}`);
    process.exit(2);
  });
  process.on('uncaughtException', (e) => {
    io.err(`hailo-workbench ${command}: ${describeFailure(e).replace(/^(?!internal error)/, 'internal error: ')}`);
    process.exit(2);
  });
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    io.err(`hailo-workbench ${command}: internal error: the command stopped before writing its result (an input was never read to the end)`);
    process.exitCode = 2;
  });
  main(argv, io).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (e) => {
      settled = true;
      io.err(`hailo-workbench ${command}: ${describeFailure(e)}`);
      process.exitCode = 2;
    },
  );
}
