import * as fs from 'node:fs';
import { ruleDocsFromReadme } from '../src/core/analysis/ruleDocs';

/** The rule docs text, as committed in media/docs/rules.md. */
export function ruleDocsText(readmePath: string): string {
  return ruleDocsFromReadme(fs.readFileSync(readmePath, 'utf8'));
}
