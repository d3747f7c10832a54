import { strict as assert } from 'node:assert';
import type { Finding } from '../../src/core/finding';
import { lineIndex, placeAllsFindings, placeLedgerFinding, placeLintFinding } from '../../src/core/placement';

/** Where each finding goes (src/core/placement.ts): every owner of diagnostics asks it. */
describe('placement of findings', () => {
  const model = '/w/build/enc.onnx';

  it('a lint finding: on the model with its nodes, on each PyTorch line of its nodes, on the hailo.json line it names', () => {
    const f: Finding = {
      code: 'HW001',
      severity: 'error',
      message: 'Softmax on the wrong axis.',
      fix: 'Use dim=-1.',
      nodes: ['/a/Softmax', '/b/Softmax'],
      source: { file: '/w/model.py', line: 20 },
      related: [
        { message: 'second node', file: '/w/other.py', line: 7, node: '/b/Softmax' },
        { message: 'expected shape [1, 80, 3000]', file: '/w/hailo.json', line: 12 },
        { message: 'no file: not placed' },
      ],
    };
    const p = placeLintFinding(f, model);
    assert.deepEqual(
      p.map((x) => [x.target, x.file, x.line]),
      [
        ['onnx', model, 0],
        ['source', '/w/model.py', 19],
        ['source', '/w/other.py', 6],
        ['project', '/w/hailo.json', 11],
      ],
    );
    const [onModel, onPy, onOther, onProject] = p;
    assert.equal(onModel!.message, 'Softmax on the wrong axis. Fix: Use dim=-1. [/a/Softmax, /b/Softmax]');
    assert.deepEqual([onModel!.column, onModel!.endColumn], [0, 0], 'the model gets its first character');
    assert.deepEqual(
      onModel!.related.map((r) => [r.file, r.line, r.message]),
      [
        ['/w/model.py', 19, 'PyTorch source of /a/Softmax'],
        ['/w/other.py', 6, 'PyTorch source of /b/Softmax'],
        ['/w/hailo.json', 11, 'expected shape [1, 80, 3000]'],
      ],
    );
    assert.equal(onPy!.column, undefined, 'a source line is marked whole');
    assert.equal(onPy!.message, 'Softmax on the wrong axis. Fix: Use dim=-1.');
    assert.deepEqual(onPy!.related, [{ file: model, line: 0, message: 'ONNX node /a/Softmax in enc.onnx' }]);
    assert.equal(onOther!.node, '/b/Softmax');
    assert.equal(onProject!.message, 'enc.onnx: Softmax on the wrong axis. Fix: Use dim=-1.');
    assert.ok(p.every((x) => x.code === 'HW001' && x.severity === 'error'));
  });

  it('a lint finding without source map or related places goes on the model alone', () => {
    const p = placeLintFinding({ code: 'HW010', severity: 'info', message: 'Note.', nodes: [] }, model);
    assert.deepEqual(
      p.map((x) => [x.target, x.message]),
      [['onnx', 'Note.']],
    );
  });

  it('a ledger finding: on its PyTorch line and on the model, pointing at the HN layer and the ONNX nodes', () => {
    const f: Finding = {
      code: 'RW002',
      severity: 'warning',
      message: 'LayerNorm decomposed.',
      nodes: ['/ln/LayerNormalization'],
      source: { file: '/w/model.py', line: 5 },
      related: [{ message: 'HN layer normalization1', file: '/w/enc.har' }],
    };
    const p = placeLedgerFinding(f, model);
    assert.deepEqual(
      p.map((x) => [x.target, x.file, x.line, x.column]),
      [
        ['source', '/w/model.py', 4, undefined],
        ['onnx', model, 0, 0],
      ],
    );
    assert.deepEqual(p[0]!.related, [
      { file: '/w/enc.har', line: 0, message: 'HN layer normalization1' },
      { file: model, line: 0, message: 'ONNX node(s): /ln/LayerNormalization' },
    ]);
    assert.deepEqual(
      placeLedgerFinding(f, undefined).map((x) => x.target),
      ['source'],
      'without the model file only the source line',
    );
  });

  it('.alls findings on their spans, across lines and CRLF, a "did you mean" message not repeating its fix', () => {
    const text = 'a = x\r\nquantization_param(conv1, bad)\r\n';
    const start = text.indexOf('bad');
    const findings = [
      { code: 'ALLS010', severity: 'error' as const, message: 'Unknown value bad.', fix: 'Use one of: x, y.', nodes: [], span: { start, end: start + 3 } },
      { code: 'ALLS020', severity: 'warning' as const, message: 'Did you mean conv2?', fix: 'conv2', nodes: [], span: { start: 2, end: 2 } },
      { code: 'ALLS030', severity: 'hint' as const, message: 'Spans two lines.', nodes: [], span: { start: 4, end: text.indexOf('(') } },
    ];
    const p = placeAllsFindings(findings, '/w/enc.alls', text);
    assert.deepEqual(
      p.map((x) => [x.line, x.column, x.endLine, x.endColumn]),
      [
        [1, 26, 1, 29],
        [0, 2, 0, 3],
        [0, 4, 1, 18],
      ],
    );
    assert.deepEqual(
      p.map((x) => x.message),
      ['Unknown value bad. Use one of: x, y.', 'Did you mean conv2?', 'Spans two lines.'],
    );
    assert.ok(p.every((x) => x.target === 'alls' && x.file === '/w/enc.alls'));
  });

  it('lineIndex: 0-based line and column of any offset, clamped to the text', () => {
    const at = lineIndex('ab\ncd\n\nef');
    assert.deepEqual(
      [0, 2, 3, 6, 7, 9, 100].map((o) => at(o)),
      [
        { line: 0, column: 0 },
        { line: 0, column: 2 },
        { line: 1, column: 0 },
        { line: 2, column: 0 },
        { line: 3, column: 0 },
        { line: 3, column: 2 },
        { line: 3, column: 2 },
      ],
    );
  });
});
