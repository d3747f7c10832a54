/**
 * Which Python runs the export. In the editor: the interpreter selected in the Python extension
 * (when it is installed), else the `hailo.pythonPath` setting, else `python3`. On the command line:
 * `--python`, else `HAILO_PYTHON`, else `python3`.
 */
export type InterpreterSource = 'python-extension' | 'setting' | 'cli-option' | 'env' | 'default';

export interface Interpreter {
  path: string;
  source: InterpreterSource;
}

export const INTERPRETER_SOURCE_TEXT: Record<InterpreterSource, string> = {
  'python-extension': 'the interpreter selected in the Python extension',
  setting: 'the hailo.pythonPath setting',
  'cli-option': 'the --python option',
  env: 'the HAILO_PYTHON environment variable',
  default: 'the default python3 on PATH',
};

export const DEFAULT_PYTHON = process.platform === 'win32' ? 'python' : 'python3';

export interface EditorInterpreterSources {
  /** The Python extension's active environment for the resource; undefined when not installed or none chosen. */
  pythonExtension?: () => Promise<string | undefined>;
  /** The `hailo.pythonPath` setting ("" when unset). */
  setting?: string;
}

export async function resolveEditorInterpreter(src: EditorInterpreterSources): Promise<Interpreter> {
  if (src.pythonExtension) {
    try {
      const p = await src.pythonExtension();
      if (p && p.trim()) return { path: p.trim(), source: 'python-extension' };
    } catch {
      // an extension API that fails must not block the export: fall through to the setting
    }
  }
  if (src.setting && src.setting.trim()) return { path: src.setting.trim(), source: 'setting' };
  return { path: DEFAULT_PYTHON, source: 'default' };
}

export function resolveCliInterpreter(option: string | undefined, env: Record<string, string | undefined>): Interpreter {
  if (option && option.trim()) return { path: option.trim(), source: 'cli-option' };
  const e = env.HAILO_PYTHON;
  if (e && e.trim()) return { path: e.trim(), source: 'env' };
  return { path: DEFAULT_PYTHON, source: 'default' };
}

/** How to choose another interpreter, for messages. */
export function howToChooseInterpreter(context: 'editor' | 'cli'): string {
  return context === 'editor'
    ? 'Choose another with "Python: Select Interpreter" or set hailo.pythonPath.'
    : 'Choose another with --python PATH or the HAILO_PYTHON environment variable.';
}
