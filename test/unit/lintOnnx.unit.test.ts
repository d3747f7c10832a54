import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { lintOnnxFile } from '../../src/core/analysis/lintFile';
import { RULES, ruleCatalogueUrl, ruleHeading, headingAnchor } from '../../src/core/analysis/lintRules';
import { ruleDocAnchor, ruleDocHeading, ruleDocsFromReadme } from '../../src/core/analysis/ruleDocs';
import { findingLocation, summarize } from '../../src/core/summary/summarize';
import { HostMessage, ModelSummary, WebviewMessage } from '../../src/core/protocol/modelEditor';
import { parseMessage } from '../../src/core/protocol/envelope';
import { BAD_KINDS, WHISPER_SIZES, writeFixture, writeWhisper } from '../fixtures/onnx/gen';
import { isHailoError } from '../../src/core/errors';

function io(cwd: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), cwd, env: {} };
}

const root = path.resolve(__dirname, '..', '..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-lint-'));
const w13 = path.join(dir, 'enc13.onnx');
const w17 = path.join(dir, 'enc17.onnx');
const conv = path.join(dir, 'conv.onnx');

before(() => {
  writeWhisper(w13, { ...WHISPER_SIZES.toy, opset: 13 });
  writeWhisper(w17, { ...WHISPER_SIZES.toy, opset: 17 });
  writeWhisper(conv, { ...WHISPER_SIZES.toy, opset: 13, convOnly: true });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('lint on generated ONNX models', () => {
  it('opset 13 Whisper-style encoder: hand-written LayerNorm, attention, Conv1d, foldable Shape chains', async () => {
    const r = await lintOnnxFile(w13);
    const codes = new Set(r.findings.map((f) => f.code));
    for (const c of ['HW011', 'HW012', 'HW013', 'HW014', 'HW019', 'HW030', 'HW006']) assert.ok(codes.has(c), `${c} missing`);
    assert.ok(!codes.has('HW010'));
    assert.equal(r.findings.filter((f) => f.severity === 'error').length, 0);
    assert.equal(r.findings.find((f) => f.code === 'HW006')!.severity, 'info');
  });

  it('opset 17: native LayerNormalization (HW010), no hand-written pattern', async () => {
    const r = await lintOnnxFile(w17);
    const codes = new Set(r.findings.map((f) => f.code));
    assert.ok(codes.has('HW010'));
    assert.ok(!codes.has('HW011'));
  });

  it('conv-only variant: only Conv1d, the layout transpose and the estimate', async () => {
    const r = await lintOnnxFile(conv);
    assert.deepEqual([...new Set(r.findings.map((f) => f.code))].sort(), ['HW014', 'HW017', 'HW019', 'HW030']);
  });

  it('the 1500-step contract from hailo.json; source map lines on findings', async () => {
    const proj = path.join(dir, 'hailo.json');
    fs.writeFileSync(
      proj,
      JSON.stringify(
        { models: [{ name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputs: [{ name: 'output', shape: [1, 1500, 64] }], onnx: 'enc17.onnx' }] },
        null,
        2,
      ),
    );
    fs.writeFileSync(
      `${w17}.sourcemap.json`,
      JSON.stringify({
        version: 1,
        model: 'enc17.onnx',
        nodes: { '/blocks.0/attn/Softmax': { file: 'model.py', line: 88 }, '/conv1/Conv': { file: 'model.py', line: 12 } },
      }),
    );
    try {
      const r = await lintOnnxFile(w17, { projectFile: proj });
      const c = r.findings.find((f) => f.code === 'HW021')!;
      assert.match(c.message, /\[1, 1500, 32\] but hailo\.json expects \[1, 1500, 64\]/);
      assert.equal(c.related?.[0]?.file, proj);
      assert.ok((c.related?.[0]?.line ?? 0) > 1);
      const sm = r.findings.find((f) => f.code === 'HW012')!;
      assert.deepEqual(sm.source, { file: path.join(dir, 'model.py'), line: 88 });
      assert.deepEqual(r.findings.find((f) => f.code === 'HW019' && f.nodes.includes('/conv1/Conv'))!.source?.line, 12);
    } finally {
      fs.rmSync(`${w17}.sourcemap.json`);
      fs.rmSync(proj);
    }
  });
});

describe('lint on a real torch.onnx.export', function () {
  const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
  it('F.pad(x, (0, 1, 0, 1)) is asymmetric, F.pad(x, (1, 1, 1, 1)) is not (pads folded from the exported chain)', function () {
    this.timeout(120_000);
    const probe = spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.log(`    skipping: ${PY} has no torch/onnx (set HAILO_TEST_PYTHON)`);
      this.skip();
    }
    const out = path.join(dir, 'pads13.onnx');
    const script = [
      'import sys, torch, torch.nn as nn, torch.nn.functional as F',
      'class M(nn.Module):',
      '    def forward(self, x):',
      '        return F.pad(x, (0, 1, 0, 1)), F.pad(x, (1, 1, 1, 1))',
      "torch.onnx.export(M(), torch.zeros(1, 4, 16, 16), sys.argv[1], opset_version=13, input_names=['x'], output_names=['a', 'b'])",
    ].join('\n');
    const r = spawnSync(PY, ['-c', script, out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return lintOnnxFile(out).then((res) => {
      const pads = res.findings.filter((f) => f.code === 'HW020');
      assert.equal(pads.length, 1, pads.map((f) => f.message).join('\n'));
      assert.equal(pads[0]!.nodes.length, 1);
      assert.match(pads[0]!.message, /pads \[0, 0, 0, 0, 0, 0, 1, 1\]/);
    });
  });
});

describe('lint on every reader fixture', () => {
  it('each fixture ends in findings or a typed error, never a crash; odd-but-valid models are linted', async () => {
    const fx = fs.mkdtempSync(path.join(dir, 'fx-'));
    const seen: Record<string, string> = {};
    for (const kind of BAD_KINDS) {
      const file = writeFixture(kind, fx);
      try {
        const r = await lintOnnxFile(file);
        seen[kind] = [...new Set(r.findings.map((f) => f.code))].sort().join(',');
      } catch (e) {
        assert.ok(isHailoError(e), `${kind}: ${String(e)}`);
        assert.ok(e.message.includes(path.basename(file)) || e.file !== undefined, `${kind}: ${e.message}`);
        seen[kind] = e.code;
      }
    }
    assert.match(seen['subgraph-if']!, /HW004/, 'If is control flow');
    assert.match(seen['unknown-domain']!, /HW00[47]/);
    assert.match(seen['empty']!, /^MODEL_/);
    assert.match(seen['text']!, /^MODEL_/);
  });
});

describe('lint CLI', () => {
  it('text: exit 0 without errors, lists codes and fixes', async () => {
    const x = io(dir);
    assert.equal(await main(['lint', 'enc13.onnx'], x), 0);
    const out = x.stdout.join('\n');
    assert.match(out, /enc13\.onnx: info HW011: 2 LayerNorms decomposed by the ONNX exporter/);
    assert.match(out, /fix: /);
    assert.match(out, /0 error\(s\)/);
  });

  it('json: each finding has code, severity, message, nodes, fix and source; exit 1 on a contract error', async () => {
    const proj = path.join(dir, 'contract.json');
    fs.writeFileSync(
      proj,
      JSON.stringify({
        models: [{ name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputs: [{ name: 'output', shape: [1, 500, 32] }], onnx: 'enc13.onnx' }],
      }),
    );
    fs.writeFileSync(
      `${w13}.sourcemap.json`,
      JSON.stringify({ version: 1, model: 'enc13.onnx', nodes: { '/blocks.1/attn/Softmax': { file: 'enc.py', line: 7 } } }),
    );
    try {
      const x = io(dir);
      assert.equal(await main(['lint', 'enc13.onnx', '--config', proj, '--model', 'enc', '--format', 'json'], x), 1);
      const j = JSON.parse(x.stdout.join(''));
      assert.equal(j.model, 'enc');
      assert.ok(j.summary.errors >= 1);
      for (const f of j.findings) {
        assert.match(f.code, /^HW\d{3}$/);
        assert.ok(['error', 'warning', 'info', 'hint'].includes(f.severity));
        assert.equal(typeof f.message, 'string');
        assert.ok(Array.isArray(f.nodes));
        assert.match(f.helpUri, /#hw\d{3}--/);
      }
      const sm = j.findings.find((f: { code: string }) => f.code === 'HW012');
      assert.deepEqual(sm.source, { file: path.join(dir, 'enc.py'), line: 7 });
      assert.ok(j.findings.some((f: { code: string; fix?: string }) => f.code === 'HW021' && f.fix));
    } finally {
      fs.rmSync(`${w13}.sourcemap.json`);
      fs.rmSync(proj);
    }
  });

  it('sarif: a valid 2.1.0 log with rules, helpUri and locations', async () => {
    const x = io(dir);
    assert.equal(await main(['lint', w13, '--format', 'sarif', '--hw-arch', 'hailo8'], x), 0);
    const s = JSON.parse(x.stdout.join(''));
    assert.equal(s.version, '2.1.0');
    assert.equal(s.runs.length, 1);
    const run = s.runs[0];
    assert.equal(run.tool.driver.name, 'hailo-workbench');
    assert.equal(run.tool.driver.rules.length, RULES.length);
    for (const r of run.tool.driver.rules) {
      assert.match(r.id, /^HW\d{3}$/);
      assert.ok(r.helpUri.startsWith(ruleCatalogueUrl() + '#'));
      assert.match(r.name, /^[A-Za-z0-9]+$/);
    }
    assert.ok(run.results.length > 0);
    for (const res of run.results) {
      assert.ok(['error', 'warning', 'note'].includes(res.level));
      assert.equal(run.tool.driver.rules[res.ruleIndex].id, res.ruleId);
      assert.equal(typeof res.message.text, 'string');
      assert.equal(res.locations[0].physicalLocation.artifactLocation.uri, 'enc13.onnx');
      assert.equal(res.locations[0].physicalLocation.artifactLocation.uriBaseId, 'SRCROOT');
    }
    assert.match(run.originalUriBaseIds.SRCROOT.uri, /^file:\/\/.*\/$/);
  });

  it('sarif: results on the Python line when the source map knows the node, related to the model', async () => {
    fs.writeFileSync(
      `${w17}.sourcemap.json`,
      JSON.stringify({ version: 1, model: 'enc17.onnx', nodes: { '/blocks.1/attn/Softmax': { file: 'src/enc.py', line: 31 } } }),
    );
    try {
      const x = io(dir);
      assert.equal(await main(['lint', 'enc17.onnx', '--format', 'sarif'], x), 0);
      const res = JSON.parse(x.stdout.join('')).runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'HW012');
      assert.deepEqual(res.locations[0].physicalLocation, { artifactLocation: { uri: 'src/enc.py', uriBaseId: 'SRCROOT' }, region: { startLine: 31 } });
      assert.equal(res.relatedLocations[0].physicalLocation.artifactLocation.uri, 'enc17.onnx');
      assert.ok(res.locations[0].logicalLocations.some((l: { name: string }) => l.name === '/blocks.1/attn/Softmax'));
    } finally {
      fs.rmSync(`${w17}.sourcemap.json`);
    }
  });

  it('a corrupt source map does not stop the lint: a note on stderr', async () => {
    fs.writeFileSync(`${w17}.sourcemap.json`, '{ not json');
    try {
      const x = io(dir);
      assert.equal(await main(['lint', 'enc17.onnx'], x), 0);
      assert.match(x.stderr.join(''), /enc17\.onnx\.sourcemap\.json: source map is not valid JSON/);
    } finally {
      fs.rmSync(`${w17}.sourcemap.json`);
    }
  });

  it('./hailo.json is used when it lists the model; a broken one is a note, unless asked for with --config', async () => {
    const proj = path.join(dir, 'hailo.json');
    fs.writeFileSync(
      proj,
      JSON.stringify({
        models: [{ name: 'e', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputs: [{ name: 'output', shape: [1, 1500, 99] }], onnx: 'enc17.onnx' }],
      }),
    );
    try {
      const x = io(dir);
      assert.equal(await main(['lint', 'enc17.onnx', '--format', 'json'], x), 1);
      assert.equal(JSON.parse(x.stdout.join('')).model, 'e');
      fs.writeFileSync(proj, '{ "models": [ { "name": 1 } ] }');
      const y = io(dir);
      assert.equal(await main(['lint', 'enc17.onnx'], y), 0);
      assert.match(y.stderr.join(''), /hailo\.json is not a valid project file; shapes were not checked/);
      assert.equal(await main(['lint', 'enc17.onnx', '--config', 'hailo.json'], io(dir)), 2);
    } finally {
      fs.rmSync(proj);
    }
  });

  it('exit 2 for unreadable models, missing files and bad arguments, with the file named', async () => {
    const bad = writeFixture('truncated', dir);
    const x = io(dir);
    assert.equal(await main(['lint', bad], x), 2);
    assert.match(x.stderr.join(''), /truncated\.onnx/);
    const y = io(dir);
    assert.equal(await main(['lint', 'missing.onnx'], y), 2);
    assert.match(y.stderr.join(''), /missing\.onnx/);
    assert.equal(await main(['lint', w13, '--hw-arch', 'hailo9'], io(dir)), 2);
    assert.equal(await main(['lint'], io(dir)), 2);
    assert.equal(await main(['lint', w13, '--model', 'x'], io(dir)), 2);
  });
});

describe('model editor summary and protocol', () => {
  it('summarize(.onnx) gives a protocol-valid summary', async () => {
    const { summary, findings } = await summarize(w17);
    assert.ok(ModelSummary.safeParse(summary).success);
    assert.equal(summary.kind, 'onnx');
    assert.equal(summary.opset, 17);
    assert.equal(summary.paramCount, 84224);
    assert.deepEqual(summary.outputs, [{ name: 'output', shape: [1, 1500, 32], dtype: 'float32' }]);
    assert.ok(summary.ops[0]!.count >= summary.ops[summary.ops.length - 1]!.count);
    const all = [...summary.findings.error, ...summary.findings.warning, ...summary.findings.info];
    assert.equal(all.length, findings.length);
    for (const f of all) assert.equal(findings[f.id]!.code, f.code);
    assert.ok(parseMessage(HostMessage, { type: 'summary', summary }));
  });

  it('a contract finding without a Python line links to its hailo.json line', async () => {
    const proj = path.join(dir, 'contract2.json');
    fs.writeFileSync(
      proj,
      JSON.stringify(
        { models: [{ name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], outputs: [{ name: 'output', shape: [1, 1500, 64] }], onnx: 'enc17.onnx' }] },
        null,
        2,
      ),
    );
    try {
      const { summary, findings } = await summarize(w17, { projectFile: proj });
      const view = summary.findings.error.find((f) => f.code === 'HW021')!;
      assert.equal(view.source?.file, proj);
      assert.equal(view.source?.line, findings[view.id]!.related![0]!.line);
      assert.deepEqual(findingLocation(findings[view.id]!), view.source);
    } finally {
      fs.rmSync(proj);
    }
  });

  it('summarize refuses unknown kinds and passes on typed reader errors', async () => {
    await assert.rejects(summarize(path.join(dir, 'x.bin')), (e: { code?: string }) => e.code === 'INVALID_ARGUMENT');
    const bad = writeFixture('text', dir);
    await assert.rejects(summarize(bad), (e: { code?: string; message: string }) => /^MODEL_/.test(e.code ?? '') && e.message.includes('text.onnx'));
  });

  it('messages are validated: bad shapes and unknown types are rejected', () => {
    assert.ok(parseMessage(WebviewMessage, { type: 'ready' }));
    assert.ok(parseMessage(WebviewMessage, { type: 'revealFinding', id: 3 }));
    assert.equal(parseMessage(WebviewMessage, { type: 'revealFinding', id: -1 }), undefined);
    assert.equal(parseMessage(WebviewMessage, { type: 'revealFinding', id: 1, file: '/etc/passwd' }), undefined);
    assert.equal(parseMessage(WebviewMessage, { type: 'openFile', file: '/etc/passwd' }), undefined);
    assert.equal(parseMessage(HostMessage, { type: 'summary', summary: { kind: 'onnx' } }), undefined);
    assert.ok(parseMessage(HostMessage, { type: 'failed', file: '/a.onnx', code: 'MODEL_TRUNCATED', message: '/a.onnx: truncated' }));
  });
});

describe('rule catalogue in the README', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

  it('every rule has its heading below the lint marker, and diagnostics link to its anchor', () => {
    const start = readme.indexOf('<!-- section: lint -->');
    assert.ok(start >= 0);
    const headings = [...readme.slice(start).matchAll(/^### (HW\d{3} — .+)$/gm)].map((m) => m[1]!.trim());
    for (const r of RULES) {
      assert.ok(headings.includes(ruleHeading(r)), `README lacks "### ${ruleHeading(r)}"`);
      assert.match(headingAnchor(ruleHeading(r)), new RegExp(`^${r.code.toLowerCase()}--`));
    }
  });

  it('the rule docs ship with the package, are generated from the README and are up to date', () => {
    const docs = fs.readFileSync(path.join(root, 'media', 'docs', 'rules.md'), 'utf8');
    assert.equal(docs, ruleDocsFromReadme(readme), 'media/docs/rules.md is stale: run npm run build');
    for (const r of RULES) {
      assert.equal(ruleDocHeading(docs, r.code)?.text, ruleHeading(r));
      assert.equal(ruleDocAnchor(docs, r.code), headingAnchor(ruleHeading(r)));
    }
    for (let i = 1; i <= 13; i++) {
      const code = `ALLS${String(i).padStart(3, '0')}`;
      assert.ok(ruleDocHeading(docs, code), `rules.md lacks ${code}`);
    }
    const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
    assert.match(ignore, /^!media\/\*\*$/m, 'media/ (and so the docs) ships in the .vsix');
  });

  it('help links are offline file links to the shipped docs, never a placeholder host', () => {
    const url = ruleCatalogueUrl();
    assert.ok(url.startsWith('file://') && url.endsWith('/media/docs/rules.md'), url);
    assert.doesNotMatch(url, /example\.invalid/);
  });
});

describe('README pictures', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  it('every picture exists and is written by an e2e test at a checked step', () => {
    const pics = [...readme.matchAll(/!\[[^\]]*\]\((media\/readme\/([\w-]+)\.png)\)/g)];
    assert.ok(pics.length >= 4, 'the README shows the Problems panel, the quick fix, the model editor and the Rewrites view');
    const e2e = fs
      .readdirSync(path.join(root, 'test', 'e2e'))
      .map((f) => fs.readFileSync(path.join(root, 'test', 'e2e', f), 'utf8'))
      .join('\n');
    for (const [, file, name] of pics) {
      assert.ok(fs.existsSync(path.join(root, file!)), `${file} is missing`);
      assert.ok(e2e.includes(`readmePicture(wb.page, '${name}')`) || e2e.includes(`readmePicture(page, '${name}')`), `no e2e test writes ${file}`);
    }
    // the .vsix ships them, so the README in the installed extension shows them
    assert.match(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8'), /^!media\/\*\*$/m);
  });
});
