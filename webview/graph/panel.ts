import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import type { DiffLedger, GraphSide, NodeDetailsView } from '../../src/core/protocol/graph';
import type { FindingView, HostMessage, WebviewMessage } from '../../src/core/protocol/modelEditor';
import { GraphCanvas, readTheme, type Hit, type Mark, type Marks, type Viewport } from './canvas';
import { BOX, KIND_GROUP, KIND_NODE, KIND_OPEN, type FromWorker, type PackedLayout, type ToWorker } from './packed';
import { ViewData } from './viewData';

/**
 * The model editor's Graph tab: toolbar (search, overlays, diff, export), one graph canvas (two
 * in diff mode), a details panel and a legend. Layout runs in a worker; the expansion,
 * selection and viewport are kept with the webview state so hide/show and reload restore them.
 */

export interface GraphState {
  expanded?: string[];
  selected?: string;
  vp?: Viewport;
  overlay?: Overlay;
  flat?: boolean;
  /** Diff mode on: what it compares with (the host's name for a run or a file), made again after a reload. */
  diff?: string;
}

export interface GraphHostApi {
  post(m: WebviewMessage): void;
  loadState(): GraphState | undefined;
  saveState(s: GraphState): void;
  /** Bring the Graph tab to the front (for "Show in Graph"). */
  showTab(): void;
}

type Overlay = 'none' | 'lint' | 'rewrites' | 'contexts';

type Child = Node | string | null | undefined | false;
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Record<string, string>, ...children: Child[]): HTMLElementTagNameMap[K];
function el(tag: string, props?: Record<string, string>, ...children: Child[]): HTMLElement;
function el(tag: string, props: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

const KIND_VAR: Record<string, [string, string]> = {
  fused: ['--vscode-charts-purple', '#b180d7'],
  decomposed: ['--vscode-charts-orange', '#d18616'],
  removed: ['--vscode-charts-red', '#f14c4c'],
  added: ['--vscode-charts-blue', '#3794ff'],
  layout: ['--vscode-descriptionForeground', '#9d9d9d'],
  host: ['--vscode-charts-yellow', '#cca700'],
  unmatched: ['--vscode-charts-red', '#f14c4c'],
  kept: ['--vscode-charts-green', '#89d185'],
};
const SEV_VAR: Record<string, [string, string]> = {
  error: ['--vscode-editorError-foreground', '#f14c4c'],
  warning: ['--vscode-editorWarning-foreground', '#cca700'],
  info: ['--vscode-editorInfo-foreground', '#3794ff'],
  hint: ['--vscode-descriptionForeground', '#9d9d9d'],
};
const SEV_RANK: Record<string, number> = { error: 0, warning: 1, info: 2, hint: 3 };
const KIND_RANK = ['unmatched', 'removed', 'decomposed', 'fused', 'host', 'added', 'layout', 'kept'];
const CONTEXT_VARS = [
  '--vscode-charts-blue',
  '--vscode-charts-orange',
  '--vscode-charts-green',
  '--vscode-charts-purple',
  '--vscode-charts-yellow',
  '--vscode-charts-red',
];
const CONTEXT_FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#cca700', '#f14c4c'];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function tint(color: string, alpha: string): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}${alpha}` : color;
}

interface Side {
  name: GraphSide;
  key: string;
  /** The graph as it came (JSON text, parsed by the worker only), and the columns the worker made of it. */
  text: string | undefined;
  view: ViewData | undefined;
  canvas: GraphCanvas;
  host: HTMLElement;
  expanded: Set<number>;
  pending: number;
  firstLayout: boolean;
  /** Every node in one level, no groups (the Ungroup button). */
  flat: boolean;
  afterLayout: (() => void)[];
  /** Restored from the webview state before the graph arrived. */
  restore?: GraphState;
}

export class GraphPanel {
  readonly root: HTMLElement;
  private worker: Worker | undefined;
  private workerReady: Promise<Worker> | undefined;
  private nextId = 1;
  private readonly sides = new Map<GraphSide, Side>();
  private active: GraphSide = 'model';
  private findings: FindingView[] = [];
  private ledger: DiffLedger | undefined;
  /** The comparison shown (diff mode), as the host named it. */
  private diffChoice: string | undefined;
  private ledgerByOnnx = new Map<string, number>();
  private ledgerByHn = new Map<string, number>();
  private changes: number[] = [];
  private changeAt = -1;
  private overlay: Overlay = 'lint';
  private requested = false;
  private pendingReveal: string | undefined;
  private searchHits: number[] = [];
  private searchAt = -1;
  private readonly waiting = new Map<number, (m: HostMessage) => void>();
  private readonly stage: HTMLElement;
  private readonly details: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly status: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly tooltip: HTMLElement;
  private readonly searchBox: HTMLInputElement & { value: string };
  private readonly searchCount: HTMLElement;
  private readonly overlaySelect: HTMLElement & { value: string };
  private readonly diffButton: HTMLElement;
  private readonly nextChange: HTMLElement;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private slowTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: GraphHostApi,
    private readonly workerUrl: string,
  ) {
    const st = api.loadState();
    if (st?.overlay) this.overlay = st.overlay;
    this.searchBox = el('vscode-textfield', {
      placeholder: 'Search name, op or module',
      'aria-label': 'Search the graph',
      class: 'graph-search',
    }) as unknown as HTMLInputElement & { value: string };
    this.searchCount = el('span', { class: 'graph-search-count', 'aria-live': 'polite' });
    const btn = (text: string, title: string) => el('vscode-button', { secondary: '', title, 'aria-label': title }, text);
    const prev = btn('↑', 'Previous match (Shift+Enter)');
    const next = btn('↓', 'Next match (Enter)');
    const fit = btn('Fit', 'Fit the graph (F)');
    const zin = btn('+', 'Zoom in (+)');
    const zout = btn('−', 'Zoom out (-)');
    const collapse = btn('Collapse all', 'Collapse all groups');
    const flat = btn(st?.flat ? 'Group' : 'Ungroup', 'Show every node without module groups (or group them again)');
    this.overlaySelect = el(
      'vscode-single-select',
      { 'aria-label': 'Overlay', class: 'graph-overlay', title: 'Overlay' },
      el('vscode-option', { value: 'lint' }, 'Lint findings'),
      el('vscode-option', { value: 'rewrites' }, 'Compiler rewrites'),
      el('vscode-option', { value: 'contexts' }, 'Hailo contexts'),
      el('vscode-option', { value: 'none' }, 'No overlay'),
    ) as unknown as HTMLElement & { value: string };
    this.diffButton = el(
      'vscode-button',
      { secondary: '', title: 'Compare this model with the HN of a HAR (parsed, optimized or compiled)' },
      'Compare with HAR…',
    );
    this.nextChange = el('vscode-button', { secondary: '', hidden: '', title: 'Next difference in graph order (N)' }, 'Next change');
    const svg = btn('SVG', 'Export the current view as SVG');
    const png = btn('PNG', 'Export the current view as PNG');
    const toolbar = el(
      'div',
      { class: 'graph-toolbar', role: 'toolbar', 'aria-label': 'Graph' },
      this.searchBox,
      prev,
      next,
      this.searchCount,
      el('span', { class: 'sep' }),
      fit,
      zin,
      zout,
      collapse,
      flat,
      el('span', { class: 'sep' }),
      this.overlaySelect,
      this.diffButton,
      this.nextChange,
      el('span', { class: 'sep' }),
      svg,
      png,
    );
    this.stage = el('div', { class: 'graph-stage' });
    this.details = el(
      'aside',
      { class: 'graph-details', 'aria-label': 'Details' },
      el('p', { class: 'muted' }, 'Select a node to see its attributes, shapes and Python line.'),
    );
    this.legend = el('div', { class: 'graph-legend', 'aria-label': 'Legend' });
    this.status = el('div', { class: 'graph-status', 'aria-live': 'polite' });
    this.progress = el('div', { class: 'graph-progress', hidden: '' });
    this.tooltip = el('div', { class: 'graph-tooltip', hidden: '', role: 'tooltip' });
    this.root = el(
      'div',
      { class: 'graph-panel' },
      toolbar,
      el('div', { class: 'graph-body' }, this.stage, this.details),
      this.status,
      this.progress,
      this.tooltip,
    );
    this.stage.append(this.legend);
    this.addSide('model', st);

    this.searchBox.addEventListener('input', () => this.search(this.searchBox.value));
    this.searchBox.addEventListener('keydown', (ev: KeyboardEvent) => {
      if (ev.key === 'Enter') this.stepSearch(ev.shiftKey ? -1 : 1);
      if (ev.key === 'Escape') this.sideOf(this.active).canvas.canvas.focus();
    });
    prev.addEventListener('click', () => this.stepSearch(-1));
    next.addEventListener('click', () => this.stepSearch(1));
    fit.addEventListener('click', () => this.sideOf(this.active).canvas.fit());
    zin.addEventListener('click', () => this.sideOf(this.active).canvas.zoom(1.25));
    zout.addEventListener('click', () => this.sideOf(this.active).canvas.zoom(0.8));
    collapse.addEventListener('click', () => {
      const s = this.sideOf(this.active);
      s.expanded.clear();
      this.layout(s);
    });
    flat.addEventListener('click', () => {
      const s = this.sideOf(this.active);
      s.flat = !s.flat;
      flat.textContent = s.flat ? 'Group' : 'Ungroup';
      this.layout(s);
      s.firstLayout = true;
    });
    this.overlaySelect.addEventListener('change', () => {
      this.overlay = this.overlaySelect.value as Overlay;
      this.applyMarks();
      this.save();
    });
    this.diffButton.addEventListener('click', () => {
      if (this.ledger) this.closeDiff();
      else this.request({ type: 'diffRequest', requestId: 0 }, (m) => m.type === 'diff' && this.openDiff(m.hn, m.ledger, m.choice));
    });
    this.nextChange.addEventListener('click', () => this.stepChange(1));
    svg.addEventListener('click', () => this.export('svg'));
    png.addEventListener('click', () => this.export('png'));
    new MutationObserver(() => {
      const t = readTheme();
      for (const s of this.sides.values()) s.canvas.setTheme(t);
      this.applyMarks();
    }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  private addSide(name: GraphSide, st?: GraphState): Side {
    const host = el('div', { class: `graph-canvas-host side-${name}` });
    this.stage.append(host);
    const side: Side = {
      name,
      key: name,
      text: undefined,
      view: undefined,
      host,
      expanded: new Set(),
      pending: 0,
      firstLayout: true,
      flat: !!st?.flat,
      afterLayout: [],
      ...(st ? { restore: st } : {}),
      canvas: undefined as unknown as GraphCanvas,
    };
    side.canvas = new GraphCanvas(host, readTheme(), {
      click: (hit, ev) => this.click(side, hit, ev),
      hover: (text, x, y) => this.hover(text, x, y),
      viewport: () => this.save(),
    });
    side.canvas.canvas.addEventListener('keydown', (ev) => this.key(side, ev));
    side.canvas.canvas.addEventListener('focus', () => (this.active = name));
    this.sides.set(name, side);
    return side;
  }

  private sideOf(name: GraphSide): Side {
    return this.sides.get(name) ?? this.sides.get('model')!;
  }

  /** The tab became visible: ask for the graph once (and start the layout worker meanwhile). */
  show(): void {
    if (!this.requested) {
      void this.getWorker().catch(() => undefined);
      this.requested = true;
      this.status.textContent = 'Reading the graph…';
      this.request({ type: 'graphRequest', requestId: 0 }, () => undefined);
    } else {
      for (const s of this.sides.values()) s.canvas.redraw();
    }
  }

  /** Diff mode compares an ONNX model with a HAR; an HN or HAR file has nothing to compare with. */
  setModelKind(kind: string): void {
    this.diffButton.hidden = kind !== 'onnx';
  }

  setFindings(f: FindingView[]): void {
    this.findings = f;
    this.applyMarks();
  }

  /** A host message for the graph tab; returns false when it is not one. */
  handle(m: HostMessage): boolean {
    if ('requestId' in m && typeof m.requestId === 'number') {
      const cb = this.waiting.get(m.requestId);
      if (cb) {
        this.waiting.delete(m.requestId);
        if (m.type === 'error') this.status.textContent = m.message;
        else if (m.type === 'cancelled') this.status.textContent = '';
        cb(m);
      }
    }
    switch (m.type) {
      case 'graph':
        performance.mark('graph:received');
        this.load(this.sideOf('model'), m.view);
        return true;
      case 'reveal':
        this.api.showTab();
        this.show();
        this.revealById(m.node);
        return true;
      case 'nodeDetails':
        if (m.details) this.renderDetails(m.side, m.details);
        return true;
      case 'diff':
      case 'cancelled':
      case 'exported':
        if (m.type === 'exported') this.status.textContent = `Saved ${m.file}`;
        return true;
      default:
        return m.type === 'error' && 'requestId' in m && m.requestId !== undefined;
    }
  }

  private request(m: WebviewMessage & { requestId: number }, cb: (m: HostMessage) => void): void {
    const requestId = this.nextId++;
    this.waiting.set(requestId, cb);
    this.api.post({ ...m, requestId } as WebviewMessage);
  }

  // ---- worker ----

  private getWorker(): Promise<Worker> {
    this.workerReady ??= (async () => {
      // a webview cannot start a worker from its resource origin: load the script and run it from a blob
      const text = await (await fetch(this.workerUrl)).text();
      const w = new Worker(URL.createObjectURL(new Blob([text], { type: 'text/javascript' })));
      w.onmessage = (ev: MessageEvent<FromWorker>) => this.fromWorker(ev.data);
      w.onerror = (ev) => {
        this.status.textContent = `Layout worker failed: ${ev.message}`;
      };
      this.worker = w;
      return w;
    })();
    return this.workerReady;
  }

  private async toWorker(m: ToWorker): Promise<void> {
    try {
      (await this.getWorker()).postMessage(m);
    } catch (e) {
      this.status.textContent = `Cannot start the layout worker: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Stop a long layout: the worker is replaced and the last expansion undone. */
  cancelLayout(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.workerReady = undefined;
    this.hideProgress();
    for (const s of this.sides.values()) {
      if (!s.pending) continue;
      s.afterLayout = [];
      // back to what is drawn
      s.expanded = this.drawnExpansion(s);
      if (s.text !== undefined && s.view) {
        s.restore = { ...(s.restore ?? {}), expanded: [...s.expanded].map((g) => s.view!.groupId(g)) };
        s.pending = this.nextId++;
        s.firstLayout = false;
        void this.toWorker({ type: 'init', key: s.key, requestId: s.pending, text: s.text, expanded: s.restore.expanded!, ...(s.flat ? { flat: true } : {}) });
      } else s.pending = 0;
    }
    this.status.textContent = 'Layout cancelled.';
  }

  private drawnExpansion(s: Side): Set<number> {
    const out = new Set<number>();
    const l = s.canvas.laidOut;
    if (!l) return out;
    for (let b = 0; b < l.boxes.length / BOX; b++) if (l.boxes[b * BOX] === 2) out.add(l.boxes[b * BOX + 1]!);
    return out;
  }

  private fromWorker(m: FromWorker): void {
    const s = this.sides.get(m.key as GraphSide);
    if (!s) return;
    if (m.type === 'invalid') {
      this.status.textContent = `The graph is malformed (${m.message}).`;
      s.view = undefined;
      s.pending = 0;
      s.canvas.clear();
      this.hideProgress();
      return;
    }
    if (m.type === 'failed') {
      this.status.textContent = `Layout failed: ${m.message}`;
      this.hideProgress();
      return;
    }
    if (m.requestId !== s.pending) return; // superseded
    if (m.type === 'ready') {
      performance.mark('graph:laid-out');
      // the graph as columns (made by the worker; id indexes are built on first use, not in the first paint)
      if (!s.view || s.firstLayout) {
        s.view = new ViewData(m.view);
        s.canvas.setGraph(s.view);
      }
      s.expanded = new Set(m.expanded);
      s.pending = 0;
      this.hideProgress();
      this.applyLayout(s, m.layout);
      return;
    }
    s.pending = 0;
    performance.mark('graph:laid-out');
    this.hideProgress();
    this.applyLayout(s, m.layout);
  }

  private layout(s: Side, then?: () => void): void {
    if (!s.view) return;
    const requestId = this.nextId++;
    s.pending = requestId;
    if (then) s.afterLayout.push(then);
    clearTimeout(this.slowTimer);
    this.slowTimer = setTimeout(() => this.showProgress(), 300);
    void this.toWorker({ type: 'layout', key: s.key, requestId, expanded: [...s.expanded], ...(s.flat ? { flat: true } : {}) });
  }

  private showProgress(): void {
    if (![...this.sides.values()].some((s) => s.pending)) return;
    const cancel = el('vscode-button', { secondary: '' }, 'Cancel');
    cancel.addEventListener('click', () => this.cancelLayout());
    this.progress.replaceChildren(el('vscode-progress-ring', {}), el('span', {}, 'Laying out…'), cancel);
    this.progress.hidden = false;
  }

  private hideProgress(): void {
    clearTimeout(this.slowTimer);
    if (!this.progress.hidden) this.progress.hidden = true;
  }

  private load(s: Side, text: string): void {
    s.text = text;
    s.view = undefined;
    s.firstLayout = true;
    s.pending = this.nextId++;
    const expanded = s.restore?.expanded;
    void this.toWorker({ type: 'init', key: s.key, requestId: s.pending, text, ...(expanded ? { expanded } : {}), ...(s.flat ? { flat: true } : {}) });
    clearTimeout(this.slowTimer);
    this.slowTimer = setTimeout(() => this.showProgress(), 300);
  }

  private applyLayout(s: Side, l: PackedLayout): void {
    const c = s.canvas;
    const anchor = this.anchor;
    this.anchor = undefined;
    c.setLayout(l);
    if (s.firstLayout) {
      s.firstLayout = false;
      const r = s.restore;
      delete s.restore;
      if (r?.vp) c.vp = r.vp;
      else c.fit();
      if (r?.selected) this.selectById(s, r.selected, false);
      this.applyMarks();
      if (s.name === 'model' && r?.diff && !this.ledger) this.restoreDiff(r.diff, r.overlay);
    } else if (anchor && anchor.side === s.name) {
      // keep the toggled group where it was on screen
      const b = c.boxOf('group', anchor.group);
      if (b >= 0) {
        const r = c.boxRect(b);
        c.vp = { ...c.vp, tx: anchor.sx - r.x * c.vp.s, ty: anchor.sy - r.y * c.vp.s };
      }
    }
    c.drawNow();
    performance.mark('graph:painted');
    const diff = this.ledger ? ` · compared with ${this.ledger.hailoFile} (${this.ledger.stage}): ${this.changes.length} change(s)` : '';
    this.status.textContent = `${thousands(s.view!.nodeCount)} nodes · ${s.view!.groupCount - 1} groups · layout ${l.stats.ms.toFixed(0)} ms (${l.stats.levels} level${l.stats.levels === 1 ? '' : 's'} laid out, ${l.stats.cached} cached)${diff}`;
    const after = s.afterLayout;
    s.afterLayout = [];
    for (const f of after) f();
    if (s.name === 'model' && this.pendingReveal) {
      const id = this.pendingReveal;
      this.pendingReveal = undefined;
      this.revealById(id);
    }
    this.save();
  }

  private anchor: { side: GraphSide; group: number; sx: number; sy: number } | undefined;

  toggle(s: Side, group: number): void {
    if (group <= 0) return;
    const c = s.canvas;
    const b = c.boxOf('group', group);
    if (b >= 0) {
      const r = c.boxRect(b);
      this.anchor = { side: s.name, group, sx: r.x * c.vp.s + c.vp.tx, sy: r.y * c.vp.s + c.vp.ty };
    }
    performance.mark('graph:toggle');
    if (s.expanded.has(group)) {
      // collapsing a group collapses what is open inside it
      const drop = (g: number) => {
        s.expanded.delete(g);
        for (const ch of s.view!.groupChildren(g)) drop(ch);
      };
      drop(group);
    } else s.expanded.add(group);
    // the details of a selected group say whether it is open
    this.layout(s, () => {
      if (c.selected?.kind === 'group' && c.selected.index === group) this.renderGroupDetails(s, group);
    });
  }

  // ---- interaction ----

  private click(s: Side, hit: Hit | undefined, ev: MouseEvent): void {
    this.active = s.name;
    if (!hit) return;
    if (hit.kind === 'group') {
      if (!hit.open || hit.header) this.toggle(s, hit.index);
      this.select(s, { kind: 'group', index: hit.index }, false);
      return;
    }
    this.select(s, { kind: 'node', index: hit.index }, false);
    if (ev.detail === 2) this.openSource(s, hit.index);
  }

  private key(s: Side, ev: KeyboardEvent): void {
    const c = s.canvas;
    const k = ev.key;
    if (k === '+' || k === '=') c.zoom(1.25);
    else if (k === '-' || k === '_') c.zoom(0.8);
    else if (k === 'f' || k === 'F' || k === '0') c.fit();
    else if (k === '/' || (k === 'f' && (ev.ctrlKey || ev.metaKey))) this.searchBox.focus();
    else if (k === 'n' || k === 'N') this.stepChange(ev.shiftKey ? -1 : 1);
    else if (k === 'Enter' || k === ' ') {
      const sel = c.selected;
      if (sel?.kind === 'group') this.toggle(s, sel.index);
      else if (sel?.kind === 'node' && k === 'Enter') this.openSource(s, sel.index);
    } else if (k === 'Backspace' || k === 'Escape') {
      const sel = c.selected;
      const g = sel?.kind === 'node' ? s.view!.nodeGroup(sel.index) : sel ? s.view!.groupParent(sel.index) : -1;
      if (g > 0 && s.expanded.has(g)) {
        this.toggle(s, g);
        this.select(s, { kind: 'group', index: g }, false);
      }
    } else if (k.startsWith('Arrow')) this.moveSelection(s, k);
    else return;
    ev.preventDefault();
  }

  /**
   * Arrow keys. Down and Up follow the edges: to the nearest box the selected one feeds (or is
   * fed by); Down on an open group goes to its first box; where there is no such box, the nearest
   * box in that direction. Left and Right step through the selection's group in reading order.
   */
  private moveSelection(s: Side, key: string): void {
    const c = s.canvas;
    const l = c.laidOut;
    const v = s.view;
    if (!l || !v) return;
    const n = l.boxes.length / BOX;
    const cur = c.selected ? c.boxOf(c.selected.kind, c.selected.index) : -1;
    if (cur < 0) {
      for (let b = 0; b < n; b++) {
        if (l.boxes[b * BOX] !== KIND_OPEN) {
          this.selectBox(s, b);
          return;
        }
      }
      return;
    }
    const r = c.boxRect(cur);
    const cx = r.x + r.w / 2;
    const cy = r.y + r.h / 2;
    const nearest = (list: Iterable<number>, dir?: string): number => {
      let best = -1;
      let bestScore = Infinity;
      for (const b of list) {
        if (b === cur) continue;
        const q = c.boxRect(b);
        const dx = q.x + q.w / 2 - cx;
        const dy = q.y + q.h / 2 - cy;
        let score = Math.abs(dx) + Math.abs(dy);
        if (dir) {
          const along = dir === 'ArrowDown' ? dy : dir === 'ArrowUp' ? -dy : dir === 'ArrowRight' ? dx : -dx;
          const across = dir === 'ArrowDown' || dir === 'ArrowUp' ? Math.abs(dx) : Math.abs(dy);
          if (along <= 1) continue;
          score = along + across * 2;
        }
        if (score < bestScore) {
          bestScore = score;
          best = b;
        }
      }
      return best;
    };
    let next = -1;
    const open = l.boxes[cur * BOX] === KIND_OPEN;
    if (key === 'ArrowDown' && open) {
      // into the group: its first box (nodes come first, in graph order)
      for (let b = cur + 1; b < n && next < 0; b++) {
        const q = c.boxRect(b);
        if (l.boxes[b * BOX] !== KIND_OPEN && q.x >= r.x && q.y >= r.y && q.x + q.w <= r.x + r.w && q.y + q.h <= r.y + r.h) next = b;
      }
    } else if (key === 'ArrowDown' || key === 'ArrowUp') {
      next = nearest(this.edgeNeighbours(s, l, v, cur, key === 'ArrowDown'));
    } else {
      const parent = (b: number) => (l.boxes[b * BOX] === KIND_NODE ? v.nodeGroup(l.boxes[b * BOX + 1]!) : v.groupParent(l.boxes[b * BOX + 1]!));
      const home = parent(cur);
      // the boxes of the group in reading order (top to bottom, left to right); Right is the next one, Left the one before
      const siblings: number[] = [];
      for (let b = 0; b < n; b++) if (b === cur || parent(b) === home) siblings.push(b);
      const centre = (b: number) => {
        const q = c.boxRect(b);
        return [q.y + q.h / 2, q.x + q.w / 2] as const;
      };
      siblings.sort((x, y) => {
        const [ya, xa] = centre(x);
        const [yb, xb] = centre(y);
        return Math.abs(ya - yb) > 1 ? ya - yb : xa - xb;
      });
      const at = siblings.indexOf(cur);
      const to = siblings[at + (key === 'ArrowRight' ? 1 : -1)];
      // at either end of its group the selection stays
      if (to !== undefined) this.selectBox(s, to);
      return;
    }
    if (next < 0) {
      const all: number[] = [];
      for (let b = 0; b < n; b++) if (l.boxes[b * BOX] !== KIND_OPEN) all.push(b);
      next = nearest(all, key);
    }
    if (next >= 0) this.selectBox(s, next);
  }

  /** The drawn boxes one edge after (or before) box `b`: where the edges of its nodes lead. */
  private edgeNeighbours(s: Side, l: PackedLayout, v: ViewData, b: number, forward: boolean): Set<number> {
    let boxOf = this.nodeBoxes.get(l);
    if (!boxOf) {
      // each node's drawn box: its own, else the closed group that hides it
      const byNode = new Int32Array(v.nodeCount).fill(-1);
      const byGroup = new Int32Array(v.groupCount).fill(-1);
      for (let x = 0; x < l.boxes.length / BOX; x++) {
        const k = l.boxes[x * BOX]!;
        const i = l.boxes[x * BOX + 1]!;
        if (k === KIND_NODE) byNode[i] = x;
        else if (k === KIND_GROUP) byGroup[i] = x;
      }
      for (let i = 0; i < v.nodeCount; i++) {
        if (byNode[i]! >= 0) continue;
        for (let g = v.nodeGroup(i); g > 0; g = v.groupParent(g)) {
          if (byGroup[g]! >= 0) {
            byNode[i] = byGroup[g]!;
            break;
          }
        }
      }
      boxOf = byNode;
      this.nodeBoxes.set(l, boxOf);
    }
    const out = new Set<number>();
    const { edgeFrom, edgeTo } = v.p;
    for (let e = 0; e < v.edgeCount; e++) {
      const a = boxOf[forward ? edgeFrom[e]! : edgeTo[e]!]!;
      if (a !== b) continue;
      const z = boxOf[forward ? edgeTo[e]! : edgeFrom[e]!]!;
      if (z >= 0 && z !== b) out.add(z);
    }
    return out;
  }

  private readonly nodeBoxes = new WeakMap<PackedLayout, Int32Array>();

  private selectBox(s: Side, b: number): void {
    const l = s.canvas.laidOut!;
    const kind = l.boxes[b * BOX] === 0 ? 'node' : 'group';
    this.select(s, { kind, index: l.boxes[b * BOX + 1]! }, true);
  }

  private select(s: Side, sel: { kind: 'node' | 'group'; index: number }, center: boolean, fromLink = false): void {
    const c = s.canvas;
    c.selected = sel;
    if (center) {
      const b = c.boxOf(sel.kind, sel.index);
      if (b >= 0) c.centerOn(b);
    }
    c.redraw();
    if (fromLink) {
      // the other side of a diff follows; the details stay with what the user picked
    } else if (sel.kind === 'node') {
      const id = s.view!.nodeId(sel.index);
      this.request({ type: 'nodeDetailsRequest', requestId: 0, side: s.name, id }, () => undefined);
      this.linkSelection(s, id);
    } else this.renderGroupDetails(s, sel.index);
    this.save();
  }

  private selectById(s: Side, id: string, center: boolean): void {
    if (id.startsWith('group:')) {
      const g = s.view?.groupIndex(id.slice(6));
      if (g !== undefined) this.select(s, { kind: 'group', index: g }, center);
      return;
    }
    const n = s.view?.nodeIndex(id);
    if (n !== undefined) this.select(s, { kind: 'node', index: n }, center);
  }

  /** Expand what hides a node, lay out, then select and centre it. */
  reveal(s: Side, node: number, fromLink = false): void {
    if (!s.view) return;
    let changed = false;
    for (let g = s.view.nodeGroup(node); g > 0; g = s.view.groupParent(g)) {
      if (!s.expanded.has(g)) {
        s.expanded.add(g);
        changed = true;
      }
    }
    const go = () => this.select(s, { kind: 'node', index: node }, true, fromLink);
    if (changed) this.layout(s, go);
    else go();
  }

  revealById(id: string): void {
    const s = this.sideOf('model');
    if (!s.view) {
      this.pendingReveal = id;
      return;
    }
    const v = s.view;
    // an HN layer named without its net scope (a DFC log's "layer ew_mult1") is found by its last part when that is unique
    const unscoped = (): number | undefined => {
      if (id.includes('/')) return undefined;
      let found: number | undefined;
      for (let i = 0; i < v.nodeCount; i++) {
        if (!v.nodeId(i).endsWith(`/${id}`)) continue;
        if (found !== undefined) return undefined;
        found = i;
      }
      return found;
    };
    const n = v.nodeIndex(id) ?? v.nodeIndex(`output:${id}`) ?? unscoped();
    if (n === undefined) {
      this.status.textContent = `No node named ${id} in this graph.`;
      return;
    }
    this.reveal(s, n);
  }

  private openSource(s: Side, node: number): void {
    const v = s.view!;
    if (v.nodeHasSource(node)) this.api.post({ type: 'openSource', side: s.name, id: v.nodeId(node) });
  }

  private hover(text: string | undefined, x: number, y: number): void {
    const t = this.tooltip;
    if (!text) {
      t.hidden = true;
      return;
    }
    t.textContent = text;
    t.style.left = `${x + 14}px`;
    t.style.top = `${y + 14}px`;
    t.hidden = false;
  }

  // ---- search ----

  private search(q: string): void {
    const s = this.sideOf(this.active);
    const v = s.view;
    s.canvas.matches.clear();
    this.searchHits = [];
    this.searchAt = -1;
    const query = q.trim().toLowerCase();
    if (v && query) {
      // a group's id is tested once for all its nodes
      const groupHit = new Uint8Array(v.groupCount);
      for (let g = 0; g < v.groupCount; g++) groupHit[g] = v.groupId(g).toLowerCase().includes(query) ? 1 : 0;
      for (let i = 0; i < v.nodeCount; i++) {
        if (groupHit[v.nodeGroup(i)] || v.nodeId(i).toLowerCase().includes(query) || v.nodeOp(i).toLowerCase().includes(query)) this.searchHits.push(i);
      }
      for (const i of this.searchHits) s.canvas.matches.add(i);
    }
    this.searchCount.textContent = query
      ? `${this.searchHits.length ? '' : 'No results'}${this.searchHits.length ? `${this.searchHits.length} found` : ''}`
      : '';
    s.canvas.redraw();
  }

  private stepSearch(d: number): void {
    if (!this.searchHits.length) return;
    this.searchAt = (this.searchAt + d + this.searchHits.length) % this.searchHits.length;
    this.searchCount.textContent = `${this.searchAt + 1} of ${this.searchHits.length}`;
    this.reveal(this.sideOf(this.active), this.searchHits[this.searchAt]!);
  }

  // ---- details ----

  private renderDetails(side: GraphSide, d: NodeDetailsView): void {
    const s = this.sideOf(side);
    const idx = s.view?.nodeIndex(d.id);
    const rows = (list: [string, Child][]) => el('dl', {}, ...list.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    const parts: Node[] = [el('h2', {}, d.op), el('p', { class: 'node-id' }, d.id)];
    const facts: [string, Child][] = [['Module', d.scope || '(top level)']];
    if (d.source) {
      const a = el('a', { href: '#', class: 'source-link' }, `${d.source.file.split(/[\\/]/).pop()}:${d.source.line}`);
      a.title = `${d.source.file}:${d.source.line}`;
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        this.api.post({ type: 'openSource', side, id: d.id });
      });
      facts.push(['Python', a]);
    }
    if (d.originalNames?.length) facts.push(['ONNX names', d.originalNames.join(', ')]);
    parts.push(rows(facts));
    const tensors = (title: string, list: { name: string; shape: string; dtype: string; initializer?: boolean; bytes?: number }[]) =>
      list.length
        ? el(
            'section',
            {},
            el('h3', {}, title),
            el(
              'ul',
              { class: 'tensors' },
              ...list.map((t) =>
                el(
                  'li',
                  {},
                  el('code', {}, t.name),
                  ` ${t.shape || '?'} ${t.dtype}`,
                  t.initializer ? el('span', { class: 'muted' }, ` · weight${t.bytes !== undefined ? `, ${formatBytes(t.bytes)}` : ''}`) : null,
                ),
              ),
            ),
          )
        : null;
    const ins = tensors('Inputs', d.inputs);
    const outs = tensors('Outputs', d.outputs);
    if (ins) parts.push(ins);
    if (outs) parts.push(outs);
    if (d.attrs.length) parts.push(el('section', {}, el('h3', {}, 'Attributes'), rows(d.attrs.map((a) => [a.name, el('code', {}, a.value)]))));
    if (side === 'model') {
      const fs = this.findings.filter((f) => f.nodes.includes(d.id));
      if (fs.length)
        parts.push(
          el(
            'section',
            {},
            el('h3', {}, 'Lint'),
            el('ul', {}, ...fs.map((f) => el('li', { class: `sev-${f.severity}` }, el('strong', {}, f.code), ` ${f.message}`))),
          ),
        );
    }
    const e = this.entryOf(side, d.id);
    if (e)
      parts.push(
        el(
          'section',
          {},
          el('h3', {}, `Compiler: ${e.kind}`),
          el('p', {}, e.note),
          el(
            'p',
            { class: 'muted' },
            `${e.onnxNodes.length} ONNX node(s) → ${e.hnLayers.length} HN layer(s)${e.contexts.length ? ` · context ${e.contexts.join(', ')}` : ''}`,
          ),
        ),
      );
    if (idx !== undefined && s.view) {
      const v = s.view;
      const block = v.repeatedAncestor(idx);
      if (block >= 0) {
        const b = el('vscode-button', { secondary: '' }, `Mark it in all ${v.groupRepeats(block)} copies`);
        b.addEventListener('click', () => {
          s.canvas.linked = new Set(v.counterparts(idx));
          s.canvas.redraw();
        });
        parts.push(
          el(
            'section',
            {},
            el('h3', {}, 'Repeated block'),
            el('p', {}, `${v.groupId(block)} is one of ${v.groupRepeats(block)} blocks with the same structure.`),
            b,
          ),
        );
      }
    }
    this.details.replaceChildren(...parts);
  }

  private renderGroupDetails(s: Side, gi: number): void {
    const v = s.view!;
    const parts: Node[] = [el('h2', {}, v.groupLabel(gi)), el('p', { class: 'node-id' }, v.groupId(gi))];
    parts.push(
      el(
        'dl',
        {},
        el('dt', {}, 'Nodes'),
        el('dd', {}, String(v.groupSize(gi))),
        el('dt', {}, 'Groups inside'),
        el('dd', {}, String(v.groupChildren(gi).length)),
      ),
    );
    const repeats = v.groupRepeats(gi);
    const first = v.groupRepeatOf(gi);
    if (repeats > 1) parts.push(el('p', {}, `One of ${repeats} blocks with the same structure${first !== undefined ? ` (first: ${v.groupId(first)})` : ''}.`));
    const fs = this.findingsIn(s, gi);
    if (fs.length)
      parts.push(
        el(
          'section',
          {},
          el('h3', {}, `Lint (${fs.length})`),
          el('ul', {}, ...fs.slice(0, 30).map((f) => el('li', { class: `sev-${f.severity}` }, el('strong', {}, f.code), ` ${f.title}`))),
        ),
      );
    parts.push(el('p', { class: 'muted' }, s.expanded.has(gi) ? 'Enter or a click on its header collapses it.' : 'Enter or a click expands it.'));
    this.details.replaceChildren(...parts);
  }

  private findingsIn(s: Side, gi: number): FindingView[] {
    if (s.name !== 'model' || !s.view) return [];
    const v = s.view;
    return this.findings.filter((f) =>
      f.nodes.some((id) => {
        const n = v.nodeIndex(id);
        return n !== undefined && v.nodeIn(n, gi);
      }),
    );
  }

  // ---- overlays ----

  private applyMarks(): void {
    for (const s of this.sides.values()) {
      if (!s.view) continue;
      s.canvas.setMarks(this.marksFor(s));
    }
    this.renderLegend();
  }

  private marksFor(s: Side): Marks {
    const v = s.view!;
    const marks: Marks = { node: new Array<Mark | undefined>(v.nodeCount), group: new Array<Mark | undefined>(v.groupCount) };
    const up = (n: number, f: (g: number) => void) => {
      for (let g = v.nodeGroup(n); g > 0; g = v.groupParent(g)) f(g);
    };
    if (this.overlay === 'lint' && s.name === 'model') {
      const worst = new Array<string | undefined>(v.groupCount);
      // distinct findings per group (a finding on 12 nodes of a block counts once)
      const seen = new Array<Set<FindingView> | undefined>(v.groupCount);
      for (const f of this.findings) {
        const color = cssVar(...SEV_VAR[f.severity]!);
        for (const id of f.nodes) {
          const n = v.nodeIndex(id);
          if (n === undefined) continue;
          const prev = marks.node[n];
          if (!prev || SEV_RANK[f.severity]! < SEV_RANK[prev.badge ? (this.findings.find((x) => x.code === prev.badge)?.severity ?? 'hint') : 'hint']!)
            marks.node[n] = { stroke: color, badge: f.code };
          up(n, (g) => {
            (seen[g] ??= new Set()).add(f);
            if (!worst[g] || SEV_RANK[f.severity]! < SEV_RANK[worst[g]!]!) worst[g] = f.severity;
          });
        }
      }
      worst.forEach((sev, g) => {
        const n = seen[g]?.size ?? 0;
        if (sev) marks.group[g] = { stroke: cssVar(...SEV_VAR[sev]!), badge: `${n} finding${n === 1 ? '' : 's'}` };
      });
    } else if ((this.overlay === 'rewrites' || this.overlay === 'contexts') && this.ledger) {
      const index = s.name === 'model' ? this.ledgerByOnnx : this.ledgerByHn;
      const groupKind = new Array<number>(v.groupCount).fill(99);
      const groupCount = new Array<number>(v.groupCount).fill(0);
      const groupCtx = new Array<number | undefined>(v.groupCount);
      // in graph order (a group's context is that of its first node)
      const hits: [number, number][] = [];
      index.forEach((ei, id) => {
        const i = v.nodeIndex(id);
        if (i !== undefined) hits.push([i, ei]);
      });
      hits.sort((x, y) => x[0] - y[0]);
      hits.forEach(([i, ei]) => {
        const e = this.ledger!.entries[ei]!;
        if (this.overlay === 'rewrites') {
          if (e.kind === 'kept') return;
          marks.node[i] = { stroke: cssVar(...KIND_VAR[e.kind]!), badge: e.kind, dashed: e.kind === 'removed' || e.kind === 'layout' };
          const r = KIND_RANK.indexOf(e.kind);
          up(i, (g) => {
            groupCount[g]!++;
            groupKind[g] = Math.min(groupKind[g]!, r);
          });
        } else {
          const c = e.contexts[0];
          if (c === undefined) return;
          const color = cssVar(CONTEXT_VARS[c % CONTEXT_VARS.length]!, CONTEXT_FALLBACK[c % CONTEXT_FALLBACK.length]!);
          marks.node[i] = { tint: tint(color, '40'), badge: `ctx ${c}` };
          up(i, (g) => (groupCtx[g] ??= c));
        }
      });
      if (this.overlay === 'rewrites') {
        groupKind.forEach((r, g) => {
          if (r < 99) marks.group[g] = { stroke: cssVar(...KIND_VAR[KIND_RANK[r]!]!), badge: `${groupCount[g]} changed` };
        });
      } else {
        groupCtx.forEach((c, g) => {
          if (c !== undefined)
            marks.group[g] = {
              tint: tint(cssVar(CONTEXT_VARS[c % CONTEXT_VARS.length]!, CONTEXT_FALLBACK[c % CONTEXT_FALLBACK.length]!), '40'),
              badge: `ctx ${c}`,
            };
        });
      }
    }
    return marks;
  }

  private renderLegend(): void {
    const item = (color: string, label: string, dashed = false) => {
      const sw = el('span', { class: `swatch${dashed ? ' dashed' : ''}` });
      sw.style.borderColor = color;
      return el('span', { class: 'legend-item' }, sw, label);
    };
    const items: Node[] = [];
    if (this.overlay === 'lint') {
      const counts = new Map<string, number>();
      for (const f of this.findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
      for (const sev of ['error', 'warning', 'info', 'hint']) if (counts.get(sev)) items.push(item(cssVar(...SEV_VAR[sev]!), `${sev} (${counts.get(sev)})`));
      if (!items.length) items.push(el('span', {}, 'Lint: no findings on graph nodes'));
      else items.unshift(el('strong', {}, 'Lint'));
    } else if (this.overlay === 'rewrites') {
      if (!this.ledger) items.push(el('span', {}, 'Compiler rewrites: compare with a HAR first'));
      else {
        items.push(el('strong', {}, `Rewrites (${this.ledger.stage})`));
        for (const k of KIND_RANK) items.push(item(cssVar(...KIND_VAR[k]!), `${k} ${this.ledger.counts[k] ?? 0}`, k === 'removed' || k === 'layout'));
      }
    } else if (this.overlay === 'contexts') {
      const ctx = new Set<number>();
      for (const e of this.ledger?.entries ?? []) for (const c of e.contexts) ctx.add(c);
      const n = this.ledger?.contextCount;
      // a compile log gives the number of contexts; which layer runs in which is in the compiled HAR's auto model script
      if (!ctx.size && n) items.push(el('span', {}, `Contexts: ${n}; which layer runs in which is not in this comparison (compare with the compiled HAR)`));
      else if (!ctx.size) items.push(el('span', {}, 'Contexts: known after a compile (compile log or compiled HAR)'));
      else {
        items.push(el('strong', {}, 'Contexts'));
        for (const c of [...ctx].sort((a, b) => a - b))
          items.push(item(cssVar(CONTEXT_VARS[c % CONTEXT_VARS.length]!, CONTEXT_FALLBACK[c % CONTEXT_FALLBACK.length]!), `context ${c}`));
      }
    }
    this.legend.replaceChildren(...items);
    this.legend.hidden = this.overlay === 'none';
    if (this.overlaySelect.value !== this.overlay) this.overlaySelect.value = this.overlay;
  }

  // ---- diff ----

  /** Diff mode was on before the reload: compare with the same run or file again (the host checks it). */
  private restoreDiff(choice: string, overlay: Overlay | undefined): void {
    this.status.textContent = 'Restoring the comparison…';
    this.diffChoice = choice;
    this.request({ type: 'diffRequest', requestId: 0, restore: choice }, (m) => {
      if (m.type === 'diff') {
        this.openDiff(m.hn, m.ledger, m.choice ?? choice);
        if (overlay && overlay !== this.overlay) {
          this.overlay = overlay;
          this.applyMarks();
        }
      } else {
        // the error is in the status line; the single graph stays
        this.diffChoice = undefined;
        this.save();
      }
    });
  }

  private openDiff(hn: string, ledger: DiffLedger, choice: string | undefined): void {
    this.ledger = ledger;
    this.diffChoice = choice;
    this.ledgerByOnnx = new Map();
    this.ledgerByHn = new Map();
    ledger.entries.forEach((e, i) => {
      for (const n of e.onnxNodes) this.ledgerByOnnx.set(n, i);
      for (const l of e.hnLayers) this.ledgerByHn.set(l, i);
    });
    const side = this.sides.get('hn') ?? this.addSide('hn');
    this.stage.classList.add('diff');
    this.diffButton.textContent = 'Close comparison';
    this.nextChange.hidden = false;
    this.overlay = 'rewrites';
    this.load(side, hn);
    const model = this.sideOf('model');
    const order = (e: DiffLedger['entries'][number]) => Math.min(...e.onnxNodes.map((n) => model.view?.nodeIndex(n) ?? Infinity), Infinity);
    this.changes = ledger.entries
      .map((e, i) => ({ i, o: order(e), h: e.hnLayers[0] ?? '' }))
      .filter((x) => ledger.entries[x.i]!.kind !== 'kept')
      .sort((a, b) => a.o - b.o || a.h.localeCompare(b.h))
      .map((x) => x.i);
    this.changeAt = -1;
    this.status.textContent = `Compared with ${ledger.hailoFile} (${ledger.stage}): ${this.changes.length} change(s); laying out the HN…`;
    this.applyMarks();
    for (const s of this.sides.values()) s.canvas.redraw();
    this.save();
  }

  private closeDiff(): void {
    const s = this.sides.get('hn');
    if (s) {
      s.host.remove();
      this.sides.delete('hn');
    }
    this.ledger = undefined;
    this.diffChoice = undefined;
    this.ledgerByOnnx.clear();
    this.ledgerByHn.clear();
    this.stage.classList.remove('diff');
    this.diffButton.textContent = 'Compare with HAR…';
    this.nextChange.hidden = true;
    if (this.overlay !== 'none') this.overlay = 'lint';
    this.active = 'model';
    this.applyMarks();
    this.save();
  }

  private entryOf(side: GraphSide, id: string): DiffLedger['entries'][number] | undefined {
    const i = (side === 'model' ? this.ledgerByOnnx : this.ledgerByHn).get(id);
    return i === undefined ? undefined : this.ledger?.entries[i];
  }

  /** Selecting on one side of a diff selects what it became (or came from) on the other. */
  private linkSelection(s: Side, id: string): void {
    if (!this.ledger) return;
    const e = this.entryOf(s.name, id);
    const other = this.sides.get(s.name === 'model' ? 'hn' : 'model');
    if (!other?.view) return;
    const ids = e ? (s.name === 'model' ? e.hnLayers : e.onnxNodes) : [];
    const idx = ids.map((x) => other.view!.nodeIndex(x)).filter((x): x is number => x !== undefined);
    other.canvas.linked = new Set(idx);
    if (idx.length) this.reveal(other, idx[0]!, true);
    else other.canvas.redraw();
  }

  private stepChange(d: number): void {
    if (!this.changes.length || !this.ledger) return;
    this.changeAt = (this.changeAt + d + this.changes.length) % this.changes.length;
    const e = this.ledger.entries[this.changes[this.changeAt]!]!;
    const model = this.sideOf('model');
    const hn = this.sides.get('hn');
    const mi = e.onnxNodes.map((x) => model.view?.nodeIndex(x)).filter((x): x is number => x !== undefined);
    const hi = hn ? e.hnLayers.map((x) => hn.view?.nodeIndex(x)).filter((x): x is number => x !== undefined) : [];
    // select on the ONNX side (the HN side follows), or on the HN side for a layer the compiler added
    if (mi.length) this.reveal(model, mi[0]!);
    else if (hn && hi.length) this.reveal(hn, hi[0]!);
    model.canvas.linked = new Set(mi);
    if (hn) hn.canvas.linked = new Set(hi);
    this.status.textContent = `Change ${this.changeAt + 1} of ${this.changes.length}: ${e.kind}: ${e.note}`;
  }

  // ---- export and state ----

  private export(format: 'svg' | 'png'): void {
    const s = this.sideOf(this.active);
    if (!s.canvas.laidOut) return;
    const data = format === 'svg' ? s.canvas.toSvg() : s.canvas.toPng().replace(/^data:image\/png;base64,/, '');
    this.request({ type: 'export', requestId: 0, format, data }, () => undefined);
  }

  private save(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      const s = this.sideOf('model');
      if (!s.view) return;
      const sel = s.canvas.selected;
      this.api.saveState({
        expanded: [...s.expanded].map((g) => s.view!.groupId(g)),
        ...(sel ? { selected: sel.kind === 'node' ? s.view.nodeId(sel.index) : `group:${s.view.groupId(sel.index)}` } : {}),
        vp: s.canvas.vp,
        overlay: this.overlay,
        ...(s.flat ? { flat: true } : {}),
        ...(this.diffChoice ? { diff: this.diffChoice } : {}),
      });
    }, 150);
  }

  /** For tests and the bench. */
  get modelCanvas(): GraphCanvas {
    return this.sideOf('model').canvas;
  }

  /** Lay the model side out again (the bench's baseline for an expand when the graph is flat). */
  relayout(): void {
    performance.mark('graph:toggle');
    this.layout(this.sideOf('model'));
  }

  expandByScope(id: string): boolean {
    const s = this.sideOf('model');
    const g = s.view?.groupIndex(id);
    if (g === undefined) return false;
    this.toggle(s, g);
    return true;
  }
}

/** 9969 -> "9,969" (toLocaleString would load the ICU locale data inside the first paint: tens of ms). */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}
