import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';

function io(cwd: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (s) => stdout.push(s), err: (s) => stderr.push(s), cwd, env: {} };
}

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'logs');

describe('cli: parse-log', () => {
  it('text: 1 for a failed parse, naming the ONNX nodes and the recommendation', async () => {
    const o = io(FIXTURES);
    assert.equal(await main(['parse-log', 'cli-parse-failure-exception-crlf.log'], o), 1);
    const text = o.stdout.join('\n');
    assert.match(text, /^outcome: failed/);
    assert.match(
      text,
      /UnsupportedOperationError in ONNX node \/encoder\/blocks\.0\/attn\/TopK: TopK operation is unsupported \(.*cli-parse-failure-exception-crlf\.log:20\)/,
    );
    assert.match(text, /end nodes: \/encoder\/blocks\.0\/ln_1\/LayerNormalization, \/encoder\/conv2\/Conv/);
  });

  it('json: 0 for a successful pipeline, the full summary', async () => {
    const o = io(FIXTURES);
    assert.equal(await main(['parse-log', '--format', 'json', path.join(FIXTURES, 'cli-pipeline-whisper-small-encoder-ansi-progress.log')], o), 0);
    const s = JSON.parse(o.stdout.join(''));
    assert.equal(s.outcome, 'succeeded');
    assert.equal(s.compile.contexts, 12);
    assert.equal(s.header.dfcVersion, '3.33.0');
  });

  it('2 for a missing file, a directory, or no file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-parselog-'));
    const a = io(dir);
    assert.equal(await main(['parse-log', 'missing.log'], a), 2);
    assert.match(a.stderr.join(''), /missing\.log: no such file/);
    const b = io(dir);
    assert.equal(await main(['parse-log', dir], b), 2);
    assert.match(b.stderr.join(''), /not a regular file/);
    assert.equal(await main(['parse-log'], io(dir)), 2);
    assert.equal(await main(['parse-log', 'x.log', '--format', 'xml'], io(dir)), 2);
  });
});

describe('DFC log summary: links and what to do', () => {
  it('in Markdown, log references are links to the line and each known error class says what to do, with its lint rule', async () => {
    const { DfcLogParser } = await import('../../src/core/hailo/dfcLog');
    const { formatDfcLogSummary } = await import('../../src/core/hailo/dfcLogReport');
    const p = new DfcLogParser();
    p.push(
      Buffer.from(
        [
          '[info] Translation started on ONNX model enc',
          'hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:',
          ' UnsupportedShuffleLayerError in op /blocks.0/attn/Reshape: Failed to determine type of layer to create in node /blocks.0/attn/Reshape',
          '',
        ].join('\n'),
      ),
    );
    const md = formatDfcLogSummary(p.end(), { file: '/runs/1/parse.log', markdown: true });
    assert.match(md, /\[\/runs\/1\/parse\.log:3\]\(file:\/\/\/runs\/1\/parse\.log#L3\)/);
    assert.match(md, /What to do:\* A Reshape\/Transpose\/Flatten the parser cannot map.*See \[HW014\]\(file:\/\/.*media\/docs\/rules\.md#hw014--/);
    const text = formatDfcLogSummary(p.end(), { file: '/runs/1/parse.log' });
    assert.match(text, /\/runs\/1\/parse\.log:3\)\n {4}what to do: A Reshape/);
  });
});
