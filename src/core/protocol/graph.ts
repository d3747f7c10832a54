import { z } from 'zod';

/**
 * The graph tab's messages (host <-> model editor webview) and the graph payload's schema.
 * Requests carry a `requestId` that the response repeats. A graph travels as JSON text: a string
 * crosses the webview and worker boundaries without a structured-clone walk of 10,000 objects
 * on the UI thread. The layout worker parses it, checks its indexes before the first layout and
 * validates it with `GraphViewSchema` right after; the envelope is validated on arrival like
 * every other message.
 */

const SourceLocationSchema = z.object({ file: z.string(), line: z.number().int().positive(), module: z.string().optional() }).strict();

export const ViewNodeSchema = z
  .object({
    id: z.string(),
    op: z.string(),
    shape: z.string(),
    group: z.number().int().nonnegative(),
    source: SourceLocationSchema.optional(),
    originalNames: z.array(z.string()).optional(),
    io: z.enum(['input', 'output']).optional(),
    body: z.string().optional(),
  })
  .strict();

export const ViewEdgeSchema = z
  .object({ from: z.number().int().nonnegative(), to: z.number().int().nonnegative(), tensor: z.string(), shape: z.string() })
  .strict();

export const ViewGroupSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    parent: z.number().int().min(-1),
    groups: z.array(z.number().int().nonnegative()),
    nodes: z.array(z.number().int().nonnegative()),
    size: z.number().int().nonnegative(),
    repeatOf: z.number().int().nonnegative().optional(),
    repeats: z.number().int().positive(),
    body: z.string().optional(),
  })
  .strict();

/**
 * The indexes a layout relies on (edges, groups and the tree in range), checked in one pass
 * before the first layout; GraphViewSchema checks the same and every field's type.
 */
export function checkGraphIndexes(v: unknown): string | undefined {
  const g = v as { nodes?: unknown; edges?: unknown; groups?: unknown };
  if (!g || typeof g !== 'object' || !Array.isArray(g.nodes) || !Array.isArray(g.edges) || !Array.isArray(g.groups) || !g.groups.length)
    return 'graph: nodes, edges and groups are required';
  const n = g.nodes.length;
  const ng = g.groups.length;
  const int = (x: unknown, max: number) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < max;
  for (const e of g.edges as { from?: unknown; to?: unknown }[]) if (!e || !int(e.from, n) || !int(e.to, n)) return 'edges: an edge points past the node list';
  for (const x of g.nodes as { group?: unknown }[]) if (!x || !int(x.group, ng)) return 'nodes: a node points past the group list';
  for (let i = 0; i < ng; i++) {
    const x = (g.groups as { parent?: unknown; groups?: unknown; nodes?: unknown }[])[i];
    if (!x || !Array.isArray(x.groups) || !Array.isArray(x.nodes)) return `groups.${i}: malformed`;
    if (i === 0 ? x.parent !== -1 : !int(x.parent, i)) return 'groups: the group tree is malformed';
    if (x.groups.some((c: unknown) => !int(c, ng) || (c as number) <= i) || x.nodes.some((c: unknown) => !int(c, n)))
      return 'groups: the group tree is malformed';
  }
  return undefined;
}

export const GraphViewSchema = z
  .object({
    kind: z.enum(['onnx', 'hn']),
    name: z.string(),
    nodes: z.array(ViewNodeSchema),
    edges: z.array(ViewEdgeSchema),
    groups: z.array(ViewGroupSchema).min(1),
  })
  .strict()
  .superRefine((v, ctx) => {
    const n = v.nodes.length;
    const g = v.groups.length;
    if (v.edges.some((e) => e.from >= n || e.to >= n)) ctx.addIssue({ code: 'custom', message: 'an edge points past the node list' });
    if (v.nodes.some((x) => x.group >= g)) ctx.addIssue({ code: 'custom', message: 'a node points past the group list' });
    if (
      v.groups.some(
        (x, i) => (i === 0 ? x.parent !== -1 : x.parent < 0 || x.parent >= i) || x.groups.some((c) => c <= i || c >= g) || x.nodes.some((c) => c >= n),
      )
    ) {
      ctx.addIssue({ code: 'custom', message: 'the group tree is malformed' });
    }
  });

export const NodeDetailsSchema = z
  .object({
    id: z.string(),
    op: z.string(),
    scope: z.string(),
    attrs: z.array(z.object({ name: z.string(), value: z.string() }).strict()),
    inputs: z.array(
      z.object({ name: z.string(), shape: z.string(), dtype: z.string(), initializer: z.boolean(), bytes: z.number().nonnegative().optional() }).strict(),
    ),
    outputs: z.array(z.object({ name: z.string(), shape: z.string(), dtype: z.string() }).strict()),
    source: SourceLocationSchema.optional(),
    originalNames: z.array(z.string()).optional(),
  })
  .strict();
export type NodeDetailsView = z.infer<typeof NodeDetailsSchema>;

export const LedgerKindSchema = z.enum(['kept', 'fused', 'decomposed', 'removed', 'added', 'layout', 'host', 'unmatched']);

/** The part of a rewrite ledger the diff view draws. */
export const DiffLedgerSchema = z
  .object({
    stage: z.enum(['parse', 'optimize', 'compile']),
    hailoFile: z.string(),
    counts: z.record(z.string(), z.number().int().nonnegative()),
    /** Contexts the compiler used (compile log or compiled HAR), when known; entries say which layer runs in which. */
    contextCount: z.number().int().positive().optional(),
    entries: z.array(
      z
        .object({
          id: z.string(),
          kind: LedgerKindSchema,
          onnxNodes: z.array(z.string()),
          hnLayers: z.array(z.string()),
          contexts: z.array(z.number().int()),
          note: z.string(),
        })
        .strict(),
    ),
  })
  .strict();
export type DiffLedger = z.infer<typeof DiffLedgerSchema>;

export const GraphSide = z.enum(['model', 'hn']);
export type GraphSide = z.infer<typeof GraphSide>;

/** Host -> webview (added to the model editor's union). */
export const GraphHostMessages = [
  /** The model's graph as JSON text (GraphViewSchema, checked by the layout worker). */
  z.object({ type: z.literal('graph'), requestId: z.number().int(), view: z.string(), ms: z.number().nonnegative() }).strict(),
  z.object({ type: z.literal('nodeDetails'), requestId: z.number().int(), side: GraphSide, details: NodeDetailsSchema.nullable() }).strict(),
  /** Show a node in the graph tab ("Show in Graph"). */
  z.object({ type: z.literal('reveal'), node: z.string() }).strict(),
  /**
   * Diff mode: the HN graph of a HAR and the ledger between the two; `hn` is checked by the worker.
   * `choice` names what was compared (a run or a file) for the webview state: a `diffRequest`
   * with it as `restore` compares the same again (after a reload) without asking.
   */
  z
    .object({ type: z.literal('diff'), requestId: z.number().int(), hn: z.string(), ledger: DiffLedgerSchema, choice: z.string().max(4096).optional() })
    .strict(),
  /** A request ended without a result (the user cancelled a pick). */
  z.object({ type: z.literal('cancelled'), requestId: z.number().int() }).strict(),
  z.object({ type: z.literal('exported'), requestId: z.number().int(), file: z.string() }).strict(),
] as const;

/** Webview -> host. */
export const GraphWebviewMessages = [
  z.object({ type: z.literal('graphRequest'), requestId: z.number().int() }).strict(),
  z.object({ type: z.literal('nodeDetailsRequest'), requestId: z.number().int(), side: GraphSide, id: z.string() }).strict(),
  /** Open the Python line of a node the host sent (looked up by id, never a path from the webview). */
  z.object({ type: z.literal('openSource'), side: GraphSide, id: z.string() }).strict(),
  /** Pick a HAR (or HN) and diff against it; with `restore`, the comparison a `diff` named (checked again by the host). */
  z.object({ type: z.literal('diffRequest'), requestId: z.number().int(), restore: z.string().max(4096).optional() }).strict(),
  z
    .object({
      type: z.literal('export'),
      requestId: z.number().int(),
      format: z.enum(['svg', 'png']),
      /** SVG text, or PNG as base64 (at most 64 MB of text). */
      data: z.string().max(64 * 1024 * 1024),
    })
    .strict(),
] as const;
