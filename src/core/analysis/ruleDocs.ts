import { headingAnchor, RULES } from './lintRules';

/**
 * The rule documentation shipped with the extension (media/docs/rules.md), generated from the
 * README's lint rule catalogue and `.alls` check table so both say the same. VS Code opens it
 * offline at the rule: the Problems panel link goes to the heading's line, *Explain* opens the
 * markdown preview there.
 */

export const RULE_DOCS_PATH = 'media/docs/rules.md';

/** Lines of the README section that starts at `start` and ends before the next `## ` heading. */
function section(lines: string[], start: RegExp): string[] {
  const i = lines.findIndex((l) => start.test(l));
  if (i < 0) return [];
  let j = i + 1;
  while (j < lines.length && !/^## /.test(lines[j]!)) j++;
  return lines.slice(i + 1, j);
}

/** The `.alls` rows of the README table: `| ALLS001 | error | Syntax: ... |`. */
function allsRows(lines: string[]): { code: string; severity: string; text: string }[] {
  const out: { code: string; severity: string; text: string }[] = [];
  for (const l of lines) {
    const m = /^\|\s*(ALLS\d{3})\s*\|\s*([^|]+?)\s*\|\s*(.+?)\s*\|\s*$/.exec(l);
    if (m) out.push({ code: m[1]!, severity: m[2]!, text: m[3]! });
  }
  return out;
}

/** The short title of an `.alls` check: its text up to the first colon or full stop. */
function allsTitle(text: string): string {
  const m = /^(.*?)[:.](\s|$)/.exec(text);
  return (m ? m[1]! : text).replace(/`/g, '').replace(/\s+/g, ' ').trim().slice(0, 80);
}

/** The markdown of media/docs/rules.md, from the README text. */
export function ruleDocsFromReadme(readme: string): string {
  const lines = readme.split(/\r?\n/);
  const lint = section(lines, /^## Lint rule catalogue/).filter((l) => !/^<!-- section/.test(l));
  const alls = allsRows(section(lines, /^## `\.alls` model scripts/));
  const out: string[] = [
    '# Hailo Workbench rules',
    '',
    '<!-- Generated from README.md by the build (src/core/analysis/ruleDocs.ts); edit the README. -->',
    '',
    'Every finding of the Hailo lint (HWxxx) and of the `.alls` checks (ALLSxxx) links here.',
    '',
    '## Lint rules',
    '',
  ];
  // the README's rule headings are `### HWxxx — title`; keep them at that level under "Lint rules"
  for (const l of lint) out.push(l);
  while (out[out.length - 1] === '') out.pop();
  out.push('', '## `.alls` checks', '');
  for (const r of alls) {
    out.push(`### ${r.code} — ${allsTitle(r.text)}`, '', `**Severity:** ${r.severity}.`, '', r.text, '');
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

/** The heading text of a rule in the docs, by code (HW or ALLS), or undefined. */
export function ruleDocHeading(md: string, code: string): { line: number; text: string } | undefined {
  const lines = md.split(/\r?\n/);
  const re = new RegExp(`^###\\s+(${code.replace(/[^A-Za-z0-9]/g, '')}\\b.*)$`);
  for (let i = 0; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (m) return { line: i + 1, text: m[1]!.trim() };
  }
  return undefined;
}

/** The markdown preview's anchor of a rule's heading (GitHub-style slug). */
export function ruleDocAnchor(md: string, code: string): string | undefined {
  const h = ruleDocHeading(md, code);
  return h ? headingAnchor(h.text) : undefined;
}

/** Codes the docs must cover: every lint rule (the `.alls` codes come from the README table). */
export function lintCodes(): string[] {
  return RULES.map((r) => r.code);
}
