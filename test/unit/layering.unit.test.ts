import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../reference';

/**
 * The `hailo/layering` lint rule (scripts/lint/layering.mjs) through the repository's own ESLint
 * configuration: each deliberately wrong import below must fail the lint, each right one pass.
 */
describe('lint: one-way dependencies (hailo/layering)', function () {
  this.timeout(60_000);
  let eslint: ESLint;
  before(() => {
    eslint = new ESLint({ cwd: REPO_ROOT });
  });

  async function layeringErrors(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(REPO_ROOT, file) });
    return result!.messages.filter((m) => m.ruleId === 'hailo/layering').map((m) => m.message);
  }

  const wrong: [string, string, string, RegExp][] = [
    [
      'a static vscode import in core',
      'src/core/analysis/x.ts',
      "import * as vscode from 'vscode';\nexport const a = vscode;\n",
      /src\/core must not load vscode/,
    ],
    [
      'an `await import` of vscode in core',
      'src/core/analysis/x.ts',
      "export async function f() { return await import('vscode'); }\n",
      /src\/core must not load vscode/,
    ],
    ['a require of vscode in core', 'src/core/analysis/x.ts', "export const v = require('vscode');\n", /src\/core must not load vscode/],
    [
      '`import = require` of vscode in the CLI',
      'src/cli/x.ts',
      "import vscode = require('vscode');\nexport const v = vscode;\n",
      /src\/cli must not load vscode/,
    ],
    [
      'a vscode import in the webview',
      'webview/modelEditor/x.ts',
      "import { window } from 'vscode';\nexport const w = window;\n",
      /webview\/ must not load vscode/,
    ],
    [
      'core importing an adapter',
      'src/core/analysis/x.ts',
      "import { loadCore } from '../../adapters/core';\nexport const l = loadCore;\n",
      /src\/core must not import src\/adapters/,
    ],
    [
      'core importing an adapter type',
      'src/core/analysis/x.ts',
      "import type { Core } from '../../adapters/core';\nexport type C = Core;\n",
      /src\/core must not import src\/adapters/,
    ],
    [
      'the webview importing an adapter',
      'webview/modelEditor/x.ts',
      "import { isCancelled } from '../../src/adapters/core';\nexport const c = isCancelled;\n",
      /webview\/ must not import src\/adapters/,
    ],
    [
      'a static core value import in an adapter',
      'src/adapters/x.ts',
      "import { scopeGroup } from '../core/analysis/ledger';\nexport const g = scopeGroup;\n",
      /only through the facade/,
    ],
    [
      'an `await import` of a core module in an adapter',
      'src/adapters/x.ts',
      "export async function f() { return (await import('../core/analysis/ledger')).scopeGroup; }\n",
      /only through the facade/,
    ],
    ['a core value re-export in an adapter', 'src/adapters/x.ts', "export { isHailoError } from '../core/errors';\n", /only through the facade/],
    [
      'a core value import in extension.ts',
      'src/extension.ts',
      "import { HailoError } from './core/errors';\nexport const E = HailoError;\n",
      /only through the facade/,
    ],
  ];
  for (const [what, file, code, message] of wrong) {
    it(`fails on ${what}`, async () => {
      const errors = await layeringErrors(file, code);
      assert.equal(errors.length, 1, `${file}: ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, message);
    });
  }

  const right: [string, string, string][] = [
    ['type-only vscode imports in core', 'src/core/analysis/x.ts', "import type * as vscode from 'vscode';\nexport type U = vscode.Uri;\n"],
    [
      'type-only core imports in an adapter',
      'src/adapters/x.ts',
      "import type { Ledger } from '../core/analysis/ledger';\nimport { type Finding } from '../core/finding';\nexport type L = Ledger | Finding;\ntype M = typeof import('../core/analysis/ledger');\nexport type N = M;\n",
    ],
    [
      'the facade loading the core',
      'src/adapters/core.ts',
      "export const load = () => import('../core/api');\nexport { PROJECT_FILE_NAME } from '../core/project/fileName';\n",
    ],
    ['vscode in an adapter', 'src/adapters/x.ts', "import * as vscode from 'vscode';\nexport const w = vscode.window;\n"],
    [
      'the webview importing the protocol',
      'webview/modelEditor/x.ts',
      "import { WebviewMessage } from '../../src/core/protocol/modelEditor';\nexport const m = WebviewMessage;\n",
    ],
    ['the CLI importing core values', 'src/cli/x.ts', "import { runLedger } from '../core/analysis/ledgerRun';\nexport const r = runLedger;\n"],
  ];
  for (const [what, file, code] of right) {
    it(`accepts ${what}`, async () => {
      assert.deepEqual(await layeringErrors(file, code), []);
    });
  }

  it('the source tree itself passes', async () => {
    const results = await eslint.lintFiles(['src', 'webview']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'hailo/layering').map((m) => `${r.filePath}:${m.line}: ${m.message}`));
    assert.deepEqual(errors, []);
  });
});
