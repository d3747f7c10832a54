import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseProjectText, findModel, modelPaths, requireProject } from '../../src/core/project/load';
import { artifactStates } from '../../src/core/project/artifacts';
import { projectTemplate } from '../../src/core/project/template';
import { isHailoError } from '../../src/core/errors';

const valid = `{
  // comment
  "version": 1,
  "models": [
    { "name": "enc", "entry": "pkg.mod:build", "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }], "onnx": "enc.onnx", },
  ],
}`;

describe('project file', () => {
  it('accepts JSONC with comments and trailing commas', () => {
    const p = parseProjectText(valid, 'hailo.json');
    assert.deepEqual(p.problems, []);
    assert.equal(p.project?.models[0]?.name, 'enc');
  });

  it('the starter template is valid', () => {
    const p = parseProjectText(projectTemplate(), 'hailo.json');
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.project?.models, [], 'no placeholder model');
  });

  it('reports a bad shape at the exact JSON path and offset', () => {
    const text = valid.replace('[1, 80, 3000]', '[1, -80, 3000]');
    const p = parseProjectText(text, 'hailo.json');
    assert.equal(p.project, undefined);
    assert.equal(p.problems.length, 1);
    const pr = p.problems[0]!;
    assert.deepEqual(pr.path, ['models', 0, 'inputs', 0, 'shape', 1]);
    assert.equal(text.slice(pr.offset, pr.offset + pr.length), '-80');
  });

  it('points unknown keys at the key', () => {
    const text = valid.replace('"onnx": "enc.onnx"', '"onnx": "enc.onnx", "hwarch": "hailo8"');
    const p = parseProjectText(text, 'hailo.json');
    const pr = p.problems.find((x) => x.message.includes('hwarch'))!;
    assert.ok(pr);
    assert.equal(text.slice(pr.offset, pr.offset + pr.length), '"hwarch"');
  });

  it('reports JSON syntax errors with a position', () => {
    const p = parseProjectText('{ "models": [ }', 'hailo.json');
    assert.ok(p.problems.length > 0);
    assert.match(p.problems[0]!.message, /JSON syntax/);
  });

  it('rejects duplicate model names and dangling target references', () => {
    const text = `{"models":[
      {"name":"a","inputs":[{"name":"x","shape":[1]}],"onnx":"a.onnx","target":"nope"},
      {"name":"a","inputs":[{"name":"x","shape":[1]}],"onnx":"b.onnx"}]}`;
    const p = parseProjectText(text, 'hailo.json');
    const msgs = p.problems.map((x) => x.message).join('\n');
    assert.match(msgs, /duplicate model name "a"/);
    assert.match(msgs, /no target named "nope"/);
  });

  it('rejects a malformed entry point', () => {
    const p = parseProjectText(valid.replace('pkg.mod:build', 'pkg/mod.py'), 'hailo.json');
    assert.match(p.problems[0]!.message, /package\.module:factory/);
  });

  it('finds models by name and resolves paths', () => {
    const p = parseProjectText(valid, '/w/hailo.json').project!;
    assert.equal(findModel(p, undefined).name, 'enc');
    assert.throws(() => findModel(p, 'x'), /no model named "x"/);
    const paths = modelPaths(p.models[0]!, '/w');
    assert.equal(paths.onnx, '/w/enc.onnx');
    assert.equal(paths.har, '/w/enc.har');
    assert.equal(paths.hef, '/w/enc.hef');
  });

  it('requireProject names the file and each problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-proj-'));
    const f = path.join(dir, 'hailo.json');
    fs.writeFileSync(f, '{"models": 3}');
    await assert.rejects(requireProject(f), (e: unknown) => isHailoError(e, 'PROJECT_INVALID') && e.message.includes(f) && /1:12/.test(e.message));
    await assert.rejects(requireProject(path.join(dir, 'none.json')), (e: unknown) => isHailoError(e, 'PROJECT_NOT_FOUND'));
  });

  it('computes artifact states: missing, present, stale by content (never by file times)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-art-'));
    fs.mkdirSync(path.join(dir, 'pkg'));
    const py = path.join(dir, 'pkg', 'mod.py');
    fs.writeFileSync(py, 'x = 1\n');
    const onnx = path.join(dir, 'enc.onnx');
    fs.writeFileSync(onnx, 'x');
    const model = parseProjectText(valid, path.join(dir, 'hailo.json')).project!.models[0]!;
    // the ONNX older than the Python (a fresh clone): no recorded hashes, so no claim
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(onnx, past, past);
    let s = await artifactStates(model, dir);
    assert.deepEqual(
      s.map((x) => [x.kind, x.state]),
      [
        ['source', 'present'],
        ['onnx', 'present'],
        ['har', 'missing'],
        ['hef', 'missing'],
      ],
    );
    assert.equal(s[1]!.freshness, 'unknown');
    // the export recorded what it ran: same content, whatever the times say
    const sha = createHash('sha256').update('x = 1\n').digest('hex');
    fs.writeFileSync(`${onnx}.sourcemap.json`, JSON.stringify({ version: 1, model: 'enc.onnx', sources: { 'pkg/mod.py': sha }, nodes: {} }));
    s = await artifactStates(model, dir);
    assert.equal(s[1]!.state, 'present');
    assert.equal(s[1]!.freshness, 'content');
    // the Python changed: stale, naming the file, even with the ONNX newer on disk
    fs.writeFileSync(py, 'x = 2\n');
    const future = new Date(Date.now() + 60_000);
    fs.utimesSync(onnx, future, future);
    s = await artifactStates(model, dir);
    assert.equal(s[1]!.state, 'stale');
    assert.equal(s[1]!.staleBecause, py);
  });
});
