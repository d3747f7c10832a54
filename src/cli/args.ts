import { HailoError } from '../core/errors';

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  cwd: string;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export interface OptionSpec {
  /** Long name without dashes, e.g. "format". */
  name: string;
  /** Takes a value (`--format json` or `--format=json`), else a boolean flag. */
  value?: boolean;
  /** May be given more than once (values collected into an array). */
  multiple?: boolean;
  /** Allowed values. */
  choices?: readonly string[];
  short?: string;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, boolean>;
  values: Record<string, string | undefined>;
  lists: Record<string, string[]>;
}

export interface CliCommand {
  name: string;
  help: string;
  options: OptionSpec[];
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/** A small strict argument parser: unknown options are errors, values are checked against choices. */
export function parseArgs(argv: string[], specs: OptionSpec[]): ParsedArgs {
  const all: OptionSpec[] = [...specs, { name: 'help', short: 'h' }];
  const out: ParsedArgs = { positionals: [], flags: {}, values: {}, lists: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.positionals.push(a);
      continue;
    }
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(a)!;
    const key = m[1]!;
    const spec = all.find((s) => s.name === key || s.short === key);
    if (!spec) throw new HailoError('INVALID_ARGUMENT', `unknown option ${a}`);
    if (!spec.value) {
      if (m[2] !== undefined) throw new HailoError('INVALID_ARGUMENT', `option --${spec.name} takes no value`);
      out.flags[spec.name] = true;
      continue;
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new HailoError('INVALID_ARGUMENT', `option --${spec.name} needs a value`);
    if (spec.choices && !spec.choices.includes(v)) {
      throw new HailoError('INVALID_ARGUMENT', `--${spec.name} must be one of ${spec.choices.join(', ')} (got "${v}")`);
    }
    if (spec.multiple) (out.lists[spec.name] ??= []).push(v);
    else out.values[spec.name] = v;
  }
  return out;
}
