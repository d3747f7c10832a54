// The one-way dependencies of the source tree, as an ESLint rule (`hailo/layering`):
//
//   src/extension.ts -> src/adapters -> src/core <- src/cli        webview -> src/core/protocol
//
// - src/core, src/cli and webview/ never load `vscode` at run time, in any form: `import`,
//   `import()`, `require()`, `import x = require()` (type-only imports are fine).
// - src/core never imports src/adapters, src/cli or webview/; src/cli and webview/ never import
//   src/adapters.
// - In src/adapters and src/extension.ts, imports of src/core are type-only, except in the facade
//   src/adapters/core.ts, which loads the core bundle once. A value import elsewhere would copy the
//   module into the extension bundle (a second HailoError class, slower activation).
import path from 'node:path';

const FACADE = 'src/adapters/core.ts';

/** The layer of a repository-relative path (forward slashes), or undefined. */
function layerOf(rel) {
  if (rel === 'src/extension.ts' || rel.startsWith('src/adapters/')) return 'adapters';
  if (rel.startsWith('src/core/')) return 'core';
  if (rel.startsWith('src/cli/')) return 'cli';
  if (rel.startsWith('webview/')) return 'webview';
  return undefined;
}

const MESSAGES = {
  vscode: '{{layer}} must not load vscode at run time (only `import type` is allowed): it runs in plain Node and in the browser.',
  upward: '{{layer}} must not import {{target}} ({{source}}): dependencies point from adapters to core, never back.',
  coreValue:
    'src/adapters reaches core values only through the facade: `(await loadCore()).<module>` from ./core (src/adapters/core.ts); import core types with `import type`. ({{source}})',
};

export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep the one-way dependencies between src/core, src/adapters, src/cli and webview/' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, additionalProperties: false }],
    messages: MESSAGES,
  },
  create(context) {
    const root = context.options[0]?.root ?? context.cwd;
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    const layer = layerOf(file);
    if (!layer) return {};
    const layerName = { core: 'src/core', cli: 'src/cli', webview: 'webview/', adapters: 'src/adapters' }[layer];

    function check(node, source, typeOnly) {
      if (typeof source !== 'string') return;
      if (source === 'vscode') {
        if (!typeOnly && layer !== 'adapters') context.report({ node, messageId: 'vscode', data: { layer: layerName } });
        return;
      }
      if (!source.startsWith('.')) return;
      const target = layerOf(
        path
          .relative(root, path.resolve(path.dirname(context.filename), source))
          .split(path.sep)
          .join('/'),
      );
      if (!target || target === layer) return;
      const upward = (layer === 'core' && target !== 'core') || ((layer === 'cli' || layer === 'webview') && target === 'adapters');
      if (upward) {
        context.report({
          node,
          messageId: 'upward',
          data: { layer: layerName, target: { adapters: 'src/adapters', cli: 'src/cli', webview: 'webview/', core: 'src/core' }[target], source },
        });
        return;
      }
      if (layer === 'adapters' && target === 'core' && !typeOnly && file !== FACADE) context.report({ node, messageId: 'coreValue', data: { source } });
    }
    const literal = (n) => (n && n.type === 'Literal' ? n.value : undefined);

    return {
      ImportDeclaration(node) {
        const typeOnly =
          node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.type === 'ImportSpecifier' && s.importKind === 'type'));
        check(node, node.source.value, typeOnly);
      },
      ExportNamedDeclaration(node) {
        if (!node.source) return;
        const typeOnly = node.exportKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.exportKind === 'type'));
        check(node, node.source.value, typeOnly);
      },
      ExportAllDeclaration(node) {
        check(node, node.source.value, node.exportKind === 'type');
      },
      ImportExpression(node) {
        check(node, literal(node.source), false);
      },
      TSImportEqualsDeclaration(node) {
        if (node.moduleReference.type === 'TSExternalModuleReference') check(node, literal(node.moduleReference.expression), node.importKind === 'type');
      },
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1) check(node, literal(node.arguments[0]), false);
      },
    };
  },
};

export default { rules: { layering: layeringRule } };
