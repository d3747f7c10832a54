/**
 * Regenerates src/core/hailo/alls/provenance.json: for every command, section and keyword of the
 * model script command table, the first real script that uses it (repository, path, release or
 * commit). Run after extending the table:
 *
 *   node --import tsx scripts/alls-provenance.ts
 *
 * Sources: the reference pack's alls-samples (`$HAILO_REFERENCE_DIR/hailo/alls-samples`, with its
 * SOURCES.md table) and, when set, `$HAILO_ALLS_CORPUS` with a SOURCES.tsv (local file, repository,
 * path, commit per line). An entry no source shows keeps what provenance.json already says, so a run
 * without the corpus loses nothing; an entry never seen anywhere is reported and gets no
 * provenance (the unit test then fails until it is found or removed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tableKeys } from '../src/core/hailo/alls/commands';
import { parseScript } from '../src/core/hailo/alls/parser';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'src', 'core', 'hailo', 'alls', 'provenance.json');
const REFERENCE = path.resolve(ROOT, process.env.HAILO_REFERENCE_DIR ?? path.join('..', 'shared', 'reference'));

interface Source {
  file: string;
  /** "hailo-ai/hailo_model_zoo hailo_model_zoo/cfg/alls/generic/vit_tiny.alls" */
  where: string;
  /** "v2.18" or "commit 4bab414" */
  release: string;
}

function referenceSources(): Source[] {
  const dir = path.join(REFERENCE, 'hailo', 'alls-samples');
  const table = path.join(dir, 'SOURCES.md');
  if (!fs.existsSync(table)) {
    console.log(`reference samples: skipped (${table} not found; set HAILO_REFERENCE_DIR)`);
    return [];
  }
  const out: Source[] = [];
  for (const line of fs.readFileSync(table, 'utf8').split('\n')) {
    const m = /^\| ([^|]+\.alls) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/.exec(line.trim());
    if (!m) continue;
    const [, local, repo, p, rel] = m.map((x) => x.trim()) as [string, string, string, string, string];
    const tag = /tag (v[\d.]+)/.exec(rel)?.[1] ?? /([0-9a-f]{7,40})/.exec(rel)?.[1]?.slice(0, 7) ?? rel;
    out.push({ file: path.join(dir, local), where: `${repo} ${p}`, release: tag.startsWith('v') ? tag : `commit ${tag}` });
  }
  return out;
}

function corpusSources(): Source[] {
  const dir = process.env.HAILO_ALLS_CORPUS;
  if (!dir) return [];
  const table = path.join(dir, 'SOURCES.tsv');
  if (!fs.existsSync(table)) {
    console.log(`HAILO_ALLS_CORPUS: skipped (${table} not found)`);
    return [];
  }
  return fs
    .readFileSync(table, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .map(([local, repo, p, commit]) => ({ file: path.join(dir, local!), where: `${repo} ${p}`, release: `commit ${commit!.slice(0, 7)}` }));
}

function main(): void {
  const sources = [...referenceSources(), ...corpusSources()].filter((s) => fs.existsSync(s.file));
  const seen = new Map<string, { file: string; release: string }>();
  const note = (key: string, s: Source) => {
    if (!seen.has(key)) seen.set(key, { file: s.where, release: s.release });
  };
  for (const s of sources) {
    const script = parseScript(fs.readFileSync(s.file, 'utf8'));
    for (const st of script.statements) {
      const cmd = st.command?.text;
      if (!cmd || st.broken) continue;
      note(cmd, s);
      const first = st.args[0]?.value;
      const section = !st.args[0]?.key && first?.kind === 'name' ? first.text : undefined;
      if (section) note(`${cmd}(${section})`, s);
      for (const a of st.args) {
        if (!a.key) continue;
        note(`${cmd}.${a.key.text}`, s);
        if (section) note(`${cmd}(${section}).${a.key.text}`, s);
      }
    }
  }
  const previous: Record<string, { file: string; release: string }> = fs.existsSync(OUT) ? JSON.parse(fs.readFileSync(OUT, 'utf8')).entries : {};
  const entries: Record<string, { file: string; release: string }> = {};
  const missing: string[] = [];
  for (const key of tableKeys()) {
    const hit = seen.get(key) ?? previous[key];
    if (hit) entries[key] = hit;
    else missing.push(key);
  }
  fs.writeFileSync(
    OUT,
    `${JSON.stringify({ about: 'Where each entry of the model script command table (commands.ts) was seen: the first real script using it. Regenerate with scripts/alls-provenance.ts.', entries }, null, 1)}\n`,
  );
  console.log(`${sources.length} scripts read; ${Object.keys(entries).length} entries with provenance, ${missing.length} without`);
  for (const m of missing) console.log(`  not seen: ${m}`);
}

if (require.main === module) main();
