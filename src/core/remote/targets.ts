import * as jsonc from 'jsonc-parser';
import { HailoError } from '../errors';
import { Target } from '../project/schema';

/**
 * The text edits that add (or, with `replace`, replace by name) a compile target in hailo.json,
 * keeping the user's comments and formatting (jsonc-parser `modify`). Without `replace` an
 * existing target of that name is an error: replacing it would drop its other fields and comments.
 */
export function targetEdits(text: string, target: Target, opts: { replace?: boolean } = {}): jsonc.Edit[] {
  const parsed = Target.safeParse(target);
  if (!parsed.success) throw new HailoError('INVALID_ARGUMENT', `invalid target: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const errors: jsonc.ParseError[] = [];
  const root = jsonc.parseTree(text, errors, { allowTrailingComma: true });
  if (!root || errors.length || root.type !== 'object')
    throw new HailoError('PROJECT_INVALID_JSON', 'hailo.json is not a valid JSON object; fix it before adding a target');
  const value = jsonc.getNodeValue(root) as { targets?: { name?: string }[] };
  const list = Array.isArray(value.targets) ? value.targets : undefined;
  const fmt: jsonc.FormattingOptions = { insertSpaces: true, tabSize: detectIndent(text), eol: text.includes('\r\n') ? '\r\n' : '\n' };
  if (!list) return jsonc.modify(text, ['targets'], [parsed.data], { formattingOptions: fmt });
  const i = list.findIndex((t) => t?.name === target.name);
  if (i >= 0 && !opts.replace)
    throw new HailoError('INVALID_ARGUMENT', `hailo.json already has a target named "${target.name}"; choose another name or edit that target`);
  if (i >= 0) return jsonc.modify(text, ['targets', i], parsed.data, { formattingOptions: fmt });
  return jsonc.modify(text, ['targets', list.length], parsed.data, { formattingOptions: fmt, isArrayInsertion: true });
}

export function addTargetToText(text: string, target: Target, opts: { replace?: boolean } = {}): string {
  return jsonc.applyEdits(text, targetEdits(text, target, opts));
}

function detectIndent(text: string): number {
  const m = /\n( +)"/.exec(text);
  return m ? Math.min(8, m[1]!.length) : 2;
}

/** A target name from an SSH alias or user@host (letters, digits, "_", "." and "-"). */
export function targetNameFor(host: string, taken: readonly string[]): string {
  const base =
    (host.split('@').pop() ?? host)
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'target';
  let name = base;
  for (let i = 2; taken.includes(name); i++) name = `${base}-${i}`;
  return name;
}
