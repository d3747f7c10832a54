import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { addTargetToText, targetNameFor } from '../../src/core/remote/targets';
import { parseProjectText } from '../../src/core/project/load';
import { listConfiguredHosts } from '../../src/core/remote/ssh';
import { LineSplitter, displayLine } from '../../src/core/remote/logLines';
import { newRunId, pruneRuns, writeRun, readRun, RunRecord, RunStep } from '../../src/core/remote/run';
import { planStep, dfcEnvironment } from '../../src/core/remote/dfc';
import { isHailoError } from '../../src/core/errors';

describe('remote: targets in hailo.json', () => {
  const text = `{
  // my project
  "models": [], /* keep me */
}
`;
  it('adds a target and keeps comments', () => {
    const out = addTargetToText(text, { name: 'gpu-box', host: 'alice@gpu', workDir: '~/hw', dfc: { kind: 'venv', path: '~/venv' } });
    assert.match(out, /\/\/ my project/);
    assert.match(out, /\/\* keep me \*\//);
    const p = parseProjectText(out, 'hailo.json');
    assert.deepEqual(p.problems, []);
    assert.equal(p.project!.targets![0]!.host, 'alice@gpu');
    const again = addTargetToText(out, { name: 'other', host: 'box2' });
    const p2 = parseProjectText(again, 'hailo.json');
    assert.deepEqual(
      p2.project!.targets!.map((t) => t.name),
      ['gpu-box', 'other'],
    );
    // the same name again is refused (it would drop the target's other fields), unless asked to replace
    const tuned = again.replace('"host": "alice@gpu",', '"host": "alice@gpu", "memoryLimitGB": 48, // measured\n');
    assert.ok(tuned.includes('"memoryLimitGB": 48'));
    assert.throws(
      () => addTargetToText(tuned, { name: 'gpu-box', host: 'bob@gpu' }),
      (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT') && /already has a target named "gpu-box"/.test((e as Error).message),
    );
    const replaced = addTargetToText(again, { name: 'gpu-box', host: 'bob@gpu' }, { replace: true });
    assert.deepEqual(
      parseProjectText(replaced, 'hailo.json').project!.targets!.map((t) => t.host),
      ['bob@gpu', 'box2'],
    );
  });
  it('refuses a broken file and invalid targets', () => {
    assert.throws(
      () => addTargetToText('{ "models": [', { name: 'a', host: 'b' }),
      (e: unknown) => isHailoError(e, 'PROJECT_INVALID_JSON'),
    );
    assert.throws(
      () => addTargetToText(text, { name: 'bad name!', host: 'b' }),
      (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
    );
  });
  it('derives unique names', () => {
    assert.equal(targetNameFor('alice@gpu.lab', []), 'gpu.lab');
    assert.equal(targetNameFor('gpu', ['gpu']), 'gpu-2');
  });
  it('lists Host aliases from ssh_config and its Includes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwcfg-'));
    fs.mkdirSync(path.join(dir, 'conf.d'));
    fs.writeFileSync(path.join(dir, 'config'), 'Include conf.d/*.conf\nHost box1 *.wild\n  HostName 1.2.3.4\nHost box2\n');
    fs.writeFileSync(path.join(dir, 'conf.d', 'a.conf'), 'Host inc1\n  User x\n');
    assert.deepEqual(listConfiguredHosts(path.join(dir, 'config')), ['box1', 'box2', 'inc1']);
  });
});

describe('remote: log lines', () => {
  it('splits on \\n across chunks and keeps \\r redraws inside a line', () => {
    const s = new LineSplitter();
    const a = s.push(Buffer.from('one\ntw'));
    assert.deepEqual(a.lines, ['one']);
    assert.equal(a.complete.toString(), 'one\n');
    const b = s.push(Buffer.from('o\rtwo!\nthr'));
    assert.deepEqual(b.lines, ['two\rtwo!']);
    assert.equal(s.flush().toString(), 'thr');
    // a multi-byte character split across chunks
    const u = Buffer.from('é\n');
    assert.deepEqual(s.push(u.subarray(0, 1)).lines, []);
    assert.deepEqual(s.push(u.subarray(1)).lines, ['é']);
  });
  it('shows what a terminal would', () => {
    assert.equal(displayLine('Calibration:  50%\rCalibration: 100%'), 'Calibration: 100%');
    assert.equal(displayLine('[\x1b[32minfo\x1b[0m] ok'), '[info] ok');
  });
});

describe('remote: run records', () => {
  const base = (id: string, status: RunRecord['status']): RunRecord =>
    RunRecord.parse({
      version: 1,
      id,
      model: 'm',
      netName: 'm',
      hwArch: 'hailo8l',
      target: { name: 't', host: 'h', workDir: '/w' },
      remoteDir: '/w/runs/x',
      createdAt: new Date().toISOString(),
      status,
      steps: [],
    });
  it('writes, reads and prunes, never a running run', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwruns-'));
    const ids = ['20250101-000001-m-a', '20250101-000002-m-b', '20250101-000003-m-c', '20250101-000004-m-d'];
    writeRun(dir, base(ids[0]!, 'running'));
    for (const id of ids.slice(1)) writeRun(dir, base(id, 'succeeded'));
    assert.equal(readRun(path.join(dir, ids[3]!, 'run.json')).status, 'succeeded');
    const removed = pruneRuns(dir, 1);
    assert.deepEqual(removed.map((r) => path.basename(r)).sort(), [ids[1], ids[2]]);
    assert.ok(fs.existsSync(path.join(dir, ids[0]!)));
  });
  it('refuses corrupt run.json and hostile ids with typed errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwruns-'));
    fs.mkdirSync(path.join(dir, 'x'));
    fs.writeFileSync(path.join(dir, 'x', 'run.json'), '{"version": 1');
    assert.throws(
      () => readRun(path.join(dir, 'x', 'run.json')),
      (e: unknown) => isHailoError(e, 'RUN_INVALID'),
    );
    fs.writeFileSync(path.join(dir, 'x', 'run.json'), '{"version": 2}');
    assert.throws(
      () => readRun(path.join(dir, 'x', 'run.json')),
      (e: unknown) => isHailoError(e, 'RUN_INVALID'),
    );
    assert.throws(() => writeRun(dir, { ...base('ok', 'running'), id: '../escape' }));
    assert.match(newRunId('my model/x', new Date(Date.UTC(2025, 0, 2, 3, 4, 5)), 0.5), /^20250102-030405-my_model_x-[0-9a-f]{6}$/);
  });
});

describe('remote: names inside a run folder', () => {
  const step = (over: Record<string, unknown>) => ({ step: 'parse', status: 'succeeded', command: ['hailo'], ...over });
  const record = (steps: unknown[]) => ({
    version: 1,
    id: '20250101-000001-m-a',
    model: 'm',
    netName: 'm',
    hwArch: 'hailo8l',
    target: { name: 't', host: 'h', workDir: '/w' },
    remoteDir: '/w/runs/x',
    createdAt: new Date().toISOString(),
    status: 'succeeded',
    steps,
  });
  it('a run.json whose log or artifact names lead out of the run folder is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwruns-'));
    const file = path.join(dir, 'run.json');
    fs.writeFileSync(file, JSON.stringify(record([step({ log: 'parse.log', artifacts: [{ kind: 'har', remote: '/w/runs/x/m.har', local: 'm.har' }] })])));
    assert.equal(readRun(file).steps[0]!.log, 'parse.log');
    for (const bad of [
      { log: '../../../.ssh/id_rsa' },
      { log: '/etc/passwd' },
      { log: '..' },
      { artifacts: [{ kind: 'har', remote: '/x', local: '..\\..\\model.har' }] },
      { artifacts: [{ kind: 'hef', remote: '/x', local: 'sub/../../x' }] },
    ]) {
      fs.writeFileSync(file, JSON.stringify(record([step(bad)])));
      assert.throws(
        () => readRun(file),
        (e: unknown) => isHailoError(e, 'RUN_INVALID'),
        JSON.stringify(bad),
      );
    }
  });
  it('extra files named by the remote are fetched only under the names asked for', async () => {
    const { collectExtras } = await import('../../src/core/remote/pipeline');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hwruns-'));
    const fetched: string[] = [];
    const host = {
      execScript: async () => ({
        exitCode: 0,
        stderr: '',
        stdout: Buffer.from('Welcome to the box\nrun.json\n..\n../escape.html\n..\\escape.html\nparse.log\nprofile.html\nhailo_sdk.client.log\n'),
      }),
      download: async (_remote: string, local: string) => {
        fetched.push(path.relative(dir, local));
        return 0;
      },
    };
    const run = RunRecord.parse(record([]));
    const s = RunStep.parse(step({}));
    await collectExtras({ host: host as never, runsDir: dir }, run, s, dir);
    assert.deepEqual(fetched, ['profile.html', 'hailo_sdk.client.log']);
    assert.deepEqual(
      s.artifacts.map((a) => a.local),
      ['profile.html', 'hailo_sdk.client.log'],
    );
  });
});

describe('remote: DFC command lines', () => {
  const model = { name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], onnx: 'enc.onnx', startNodes: ['mel'], endNodes: ['/a/b', 'c d'] };
  it('parse: net name, hw-arch, node names, har path and -y', () => {
    const p = planStep('parse', model, { runDir: '/w/r', hwArch: 'hailo8l', inputs: { onnx: '/w/r/inputs/enc.onnx' } });
    assert.deepEqual(p.argv, [
      'hailo',
      'parser',
      'onnx',
      '/w/r/inputs/enc.onnx',
      '--net-name',
      'enc',
      '--hw-arch',
      'hailo8l',
      '--har-path',
      '/w/r/enc.har',
      '--start-node-names',
      'mel',
      '--end-node-names',
      '/a/b',
      'c d',
      '-y',
    ]);
  });
  it('optimize and compile outputs', () => {
    const o = planStep('optimize', model, { runDir: '/w/r', hwArch: 'hailo8', inputs: { onnx: 'x', calibSet: '/w/r/c.npy', modelScript: '/w/r/m.alls' } });
    assert.deepEqual(o.argv, [
      'hailo',
      'optimize',
      '/w/r/enc.har',
      '--hw-arch',
      'hailo8',
      '--calib-set-path',
      '/w/r/c.npy',
      '--model-script',
      '/w/r/m.alls',
      '--output-har-path',
      '/w/r/enc_optimized.har',
    ]);
    const c = planStep('compile', model, { runDir: '/w/r', hwArch: 'hailo8', inputs: { onnx: 'x' } });
    assert.deepEqual(
      c.outputs.map((a) => a.remote),
      ['/w/r/enc.hef', '/w/r/enc_compiled.har'],
    );
  });
  it('refuses hailo.json values that the DFC would read as options', () => {
    const opts = { runDir: '/w/r', hwArch: 'hailo8l', inputs: { onnx: '/w/r/inputs/enc.onnx' } };
    for (const bad of [{ endNodes: ['/a', '--har-path=/home/u/.bashrc'] }, { startNodes: ['-y'] }, { netName: '-enc' }]) {
      assert.throws(
        () => planStep('parse', { ...model, ...bad }, opts),
        (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT') && /starts with "-"/.test((e as Error).message),
        JSON.stringify(bad),
      );
    }
    for (const container of ['--privileged', '-uroot', 'a b', '']) {
      assert.throws(
        () => dfcEnvironment({ kind: 'docker', container }, '/w'),
        (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
        container,
      );
    }
    assert.deepEqual(dfcEnvironment({ kind: 'docker', container: 'hailo8_ai_sw_suite_2025-04' }, '/w').jobEnv.prefix, [
      'docker',
      'exec',
      'hailo8_ai_sw_suite_2025-04',
    ]);
  });
  it('venv: a path under ~ is found in the remote home (it reaches the shell quoted)', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'hwhome-'));
    fs.mkdirSync(path.join(home, 'hailo venv', 'bin'), { recursive: true });
    fs.writeFileSync(path.join(home, 'hailo venv', 'bin', 'activate'), 'HWB_ACTIVE=yes; export HWB_ACTIVE\n');
    const [cmd, ...args] = dfcEnvironment({ kind: 'venv', path: '~/hailo venv' }, '/w').launch(['sh', '-c', 'echo "$HWB_ACTIVE"']);
    assert.equal(execFileSync(cmd!, args, { env: { PATH: process.env.PATH, HOME: home }, encoding: 'utf8' }).trim(), 'yes');
    fs.rmSync(home, { recursive: true, force: true });
  });
  it('environments: venv passes its path as data; docker maps the work dir', () => {
    const v = dfcEnvironment({ kind: 'venv', path: "/o'dd/venv" }, '/w');
    const argv = v.launch(['hailo', '--version']);
    assert.equal(argv[0], 'sh');
    assert.ok(argv.includes("/o'dd/venv"));
    assert.ok(!argv[2]!.includes('odd'));
    const d = dfcEnvironment({ kind: 'docker', container: 'hailo', workDir: '/local/shared_with_docker/hw' }, '/home/u/hw');
    assert.deepEqual(d.jobEnv.prefix, ['docker', 'exec', 'hailo']);
    assert.equal(d.mapPath('/home/u/hw/runs/1'), '/local/shared_with_docker/hw/runs/1');
    assert.equal(d.mapPath('/elsewhere'), '/elsewhere');
  });
});

describe('remote: problem matcher lines', () => {
  it('puts parser errors on the ONNX (or mapped Python line), script errors on the .alls, others on the log', async () => {
    const { parseDfcLog } = await import('../../src/core/hailo/dfcLog');
    const { problemLines, PROBLEM_LINE } = await import('../../src/core/remote/problems');
    const log = [
      '[info] Translation started on ONNX model enc',
      'hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:',
      ' UnsupportedOperationError in op /encoder/TopK: TopK operation is unsupported',
      '[warning] Large model detected. The graph may contain either a large number of operators, or weight variables with a very large capacity.',
      '[error] BackendAllocatorException: Compilation failed: boom',
      '',
    ].join('\n');
    const summary = parseDfcLog(log);
    const lines = problemLines(summary, { logFile: '/runs/r/parse.log', onnx: '/p/enc.onnx' });
    assert.ok(lines.length >= 3, lines.join('\n'));
    for (const l of lines) assert.match(l, PROBLEM_LINE);
    assert.ok(
      lines.some((l) => l.startsWith('/p/enc.onnx:1:1: error:') && l.includes('/encoder/TopK')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^\/runs\/r\/parse\.log:4:1: warning: Large model/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^\/runs\/r\/parse\.log:5:1: error: .*boom/.test(l)),
      lines.join('\n'),
    );
    // with a source map the parser error lands on the PyTorch line
    const { SourceMap } = await import('../../src/core/graph/sourceMap');
    const map = new SourceMap('/p/enc.onnx.sourcemap.json', { version: 1, model: 'enc.onnx', nodes: { '/encoder/TopK': { file: 'model.py', line: 42 } } });
    const mapped = problemLines(summary, { logFile: '/runs/r/parse.log', onnx: '/p/enc.onnx', sourceMap: map });
    assert.ok(
      mapped.some((l) => l.startsWith('/p/model.py:42:1: error:')),
      mapped.join('\n'),
    );
  });
});

describe('remote: very long progress lines', () => {
  it('passes a \\r-redrawn line on in pieces cut at a redraw, keeping every byte', () => {
    const s = new LineSplitter(100);
    const frames = Array.from({ length: 20 }, (_, i) => `Calibration: ${String(i * 5).padStart(3)}%|`).join('\r');
    const out: Buffer[] = [];
    const lines: string[] = [];
    for (const ch of [frames.slice(0, 150), frames.slice(150), '\n']) {
      const r = s.push(Buffer.from(ch));
      out.push(r.complete);
      lines.push(...r.lines);
      if (s.partial) assert.ok(s.partial.length <= 100 + 150);
    }
    out.push(s.flush());
    assert.equal(Buffer.concat(out).toString(), frames + '\n');
    assert.ok(lines.length >= 2);
    for (const l of lines.slice(0, -1)) assert.ok(l.endsWith('\r'), JSON.stringify(l));
  });
});
