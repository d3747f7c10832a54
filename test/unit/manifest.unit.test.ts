import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { schemaText } from '../../scripts/gen-schema';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Command ids registered in code: registerCommand('hailo.x', ...) and registerTextEditorCommand. */
function registeredCommands(): Set<string> {
  const ids = new Set<string>();
  for (const f of sourceFiles(path.join(root, 'src'))) {
    const text = fs.readFileSync(f, 'utf8');
    for (const m of text.matchAll(/register(?:TextEditor)?Command\(\s*['"`](hailo\.[\w.]+)['"`]/g)) ids.add(m[1]!);
  }
  return ids;
}

describe('manifest', () => {
  const contributed = new Set<string>((pkg.contributes.commands as { command: string }[]).map((c) => c.command));
  const registered = registeredCommands();

  it('every contributed command has a handler', () => {
    const missing = [...contributed].filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed without a handler: ${missing.join(', ')}`);
  });

  it('every registered command is contributed', () => {
    const missing = [...registered].filter((c) => !contributed.has(c));
    assert.deepEqual(missing, [], `registered without a contribution: ${missing.join(', ')}`);
  });

  it('commands have the Hailo category and camelCase ids', () => {
    for (const c of pkg.contributes.commands as { command: string; category?: string }[]) {
      assert.equal(c.category, 'Hailo', c.command);
      assert.match(c.command, /^hailo\.[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)?$/, c.command);
    }
  });

  it('menus and walkthroughs only name known commands', () => {
    const known = new Set([...contributed]);
    for (const [menu, items] of Object.entries(pkg.contributes.menus ?? {}) as [string, { command?: string }[]][]) {
      for (const it of items) if (it.command) assert.ok(known.has(it.command), `${menu} names unknown ${it.command}`);
    }
    const text = JSON.stringify(pkg.contributes.walkthroughs ?? []) + JSON.stringify(pkg.contributes.viewsWelcome ?? []);
    for (const m of text.matchAll(/command:(hailo\.[\w]+)/g)) {
      const id = m[1]!;
      const isViewFocus = /\.focus$/.test(id) || (pkg.contributes.views?.hailo ?? []).some((v: { id: string }) => id.startsWith(v.id));
      assert.ok(known.has(id) || isViewFocus, `walkthrough/viewsWelcome names unknown ${id}`);
    }
  });

  it('every setting read in config.ts is contributed with a scope and a markdown description', () => {
    const cfg = fs.readFileSync(path.join(root, 'src', 'adapters', 'config.ts'), 'utf8');
    const keys = [...cfg.matchAll(/key:\s*'([\w.]+)'/g)].map((m) => `hailo.${m[1]}`);
    const props = pkg.contributes.configuration.properties as Record<string, { scope?: string; markdownDescription?: string }>;
    assert.deepEqual(keys.sort(), Object.keys(props).sort());
    for (const [k, v] of Object.entries(props)) {
      assert.ok(v.scope, `${k} has no scope`);
      assert.ok(v.markdownDescription, `${k} has no markdownDescription`);
    }
  });

  it('the committed JSON schema is generated from the zod schema (run `npm run build` if stale)', () => {
    const committed = fs.readFileSync(path.join(root, 'media', 'schemas', 'hailo.schema.json'), 'utf8');
    assert.equal(committed, schemaText());
  });

  it('activation is lazy', () => {
    assert.ok(!(pkg.activationEvents as string[]).includes('*'));
    assert.ok(!(pkg.activationEvents as string[]).includes('onStartupFinished'));
  });
});
