import { BOX, KIND_GROUP, KIND_NODE, KIND_OPEN, type PackedLayout } from './packed';
import type { ViewData } from './viewData';

/**
 * Draws a laid-out graph on a 2D canvas: boxes and edges in world coordinates under one
 * transform, culled to the viewport, labels only when they are legible (so a 10,000-node graph
 * pans at frame rate). Also the minimap, hit testing, the SVG export and PNG rendering.
 */

export interface Theme {
  bg: string;
  fg: string;
  muted: string;
  nodeFill: string;
  nodeStroke: string;
  ioFill: string;
  groupFill: string[];
  groupStroke: string;
  edge: string;
  selection: string;
  match: string;
  linked: string;
  font: string;
}

export interface Mark {
  stroke?: string;
  dashed?: boolean;
  /** Small text in the box's top-right corner (a lint code, a ledger kind). */
  badge?: string;
  /** Fill tint (a context's colour). */
  tint?: string;
}

export interface Marks {
  node: (Mark | undefined)[];
  group: (Mark | undefined)[];
}

export type Hit = { kind: 'node'; index: number; box: number } | { kind: 'group'; index: number; box: number; header: boolean; open: boolean };

export interface Viewport {
  s: number;
  tx: number;
  ty: number;
}

const MIN_SCALE = 0.02;
const MAX_SCALE = 4;
const TEXT_SCALE = 0.38;

export class GraphCanvas {
  readonly canvas: HTMLCanvasElement;
  readonly minimap: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D;
  private view: ViewData | undefined;
  private layout: PackedLayout | undefined;
  private marks: Marks = { node: [], group: [] };
  private edgeBox = new Float32Array(0);
  vp: Viewport = { s: 1, tx: 20, ty: 20 };
  selected: { kind: 'node' | 'group'; index: number } | undefined;
  matches = new Set<number>();
  current = -1;
  linked = new Set<number>();
  hoverEdge = -1;
  private frame = 0;
  private miniCache: HTMLCanvasElement | undefined;
  /** The minimap's picture of the whole graph and the minimap itself (contexts made once: making one costs milliseconds). */
  private readonly miniPicture: HTMLCanvasElement;
  private readonly miniPictureCtx: CanvasRenderingContext2D;
  private readonly miniCtx: CanvasRenderingContext2D;
  /** Milliseconds taken by the last few frames (the bench reads them). */
  readonly frameTimes: number[] = [];

  constructor(
    private readonly host: HTMLElement,
    private theme: Theme,
    private readonly on: { click(hit: Hit | undefined, ev: MouseEvent): void; hover(text: string | undefined, x: number, y: number): void; viewport(): void },
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'graph-canvas';
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'application');
    this.canvas.setAttribute(
      'aria-label',
      'Model graph. Down and Up follow the edges, Left and Right move within a group, Enter or Space expands or collapses, Backspace closes the group, plus and minus zoom, F fits.',
    );
    this.minimap = document.createElement('canvas');
    this.minimap.className = 'graph-minimap';
    this.minimap.setAttribute('aria-hidden', 'true');
    host.append(this.canvas, this.minimap);
    // rasterise the label fonts once now, not inside the first paint of a graph
    const warm = document.createElement('canvas').getContext('2d');
    if (warm) {
      for (const f of [`600 12px ${theme.font}`, `11px ${theme.font}`, `600 10px ${theme.font}`]) {
        warm.font = f;
        warm.fillText('Conv MatMul 0123456789×', 0, 10);
      }
    }
    this.ctx = this.canvas.getContext('2d', { alpha: false })!;
    this.miniCtx = this.minimap.getContext('2d')!;
    this.miniPicture = document.createElement('canvas');
    this.miniPictureCtx = this.miniPicture.getContext('2d')!;
    new ResizeObserver(() => this.resize()).observe(host);
    this.bindPointer();
  }

  setTheme(t: Theme): void {
    this.theme = t;
    this.miniCache = undefined;
    this.redraw();
  }

  setGraph(view: ViewData): void {
    this.view = view;
    this.layout = undefined;
    this.selected = undefined;
    this.matches.clear();
    this.linked.clear();
  }

  /** Nothing to draw (a graph withdrawn as malformed). */
  clear(): void {
    this.view = undefined;
    this.layout = undefined;
    this.miniCache = undefined;
    this.redraw();
  }

  get graph(): ViewData | undefined {
    return this.view;
  }

  get laidOut(): PackedLayout | undefined {
    return this.layout;
  }

  setLayout(l: PackedLayout): void {
    this.layout = l;
    const ne = l.edgeCount.length;
    this.edgeBox = new Float32Array(ne * 4);
    for (let e = 0; e < ne; e++) {
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (let p = l.edgeStart[e]!; p < l.edgeStart[e + 1]!; p += 2) {
        const x = l.pts[p]!;
        const y = l.pts[p + 1]!;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
      this.edgeBox.set([x0, y0, x1, y1], e * 4);
    }
    this.miniCache = undefined;
    this.redraw();
  }

  setMarks(m: Marks): void {
    this.marks = m;
    this.miniCache = undefined;
    this.redraw();
  }

  /** Index of the box showing a view node (or group), or -1 when it is not drawn. */
  boxOf(kind: 'node' | 'group', index: number): number {
    const l = this.layout;
    if (!l) return -1;
    const n = l.boxes.length / BOX;
    for (let b = 0; b < n; b++) {
      const k = l.boxes[b * BOX]!;
      if (l.boxes[b * BOX + 1] === index && (kind === 'node' ? k === KIND_NODE : k !== KIND_NODE)) return b;
    }
    return -1;
  }

  boxRect(b: number): { x: number; y: number; w: number; h: number } {
    const o = b * BOX;
    const bx = this.layout!.boxes;
    return { x: bx[o + 2]!, y: bx[o + 3]!, w: bx[o + 4]!, h: bx[o + 5]! };
  }

  /** Centre the view on a box, zooming in if labels would not be legible. */
  centerOn(b: number): void {
    const r = this.boxRect(b);
    const s = Math.max(this.vp.s, 0.8);
    this.vp = { s, tx: this.cssWidth / 2 - (r.x + r.w / 2) * s, ty: this.cssHeight / 2 - (r.y + r.h / 2) * s };
    this.redraw();
    this.on.viewport();
  }

  fit(): void {
    const l = this.layout;
    if (!l) return;
    const W = this.cssWidth || 800;
    const H = this.cssHeight || 600;
    const s = Math.min(1, Math.max(MIN_SCALE, Math.min((W - 40) / Math.max(1, l.width), (H - 40) / Math.max(1, l.height))));
    this.vp = { s, tx: (W - l.width * s) / 2, ty: Math.max(20, (H - l.height * s) / 2) };
    this.redraw();
    this.on.viewport();
  }

  zoom(factor: number, cx = this.cssWidth / 2, cy = this.cssHeight / 2): void {
    const s = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.vp.s * factor));
    const k = s / this.vp.s;
    this.vp = { s, tx: cx - (cx - this.vp.tx) * k, ty: cy - (cy - this.vp.ty) * k };
    this.redraw();
    this.on.viewport();
  }

  panBy(dx: number, dy: number): void {
    this.vp = { ...this.vp, tx: this.vp.tx + dx, ty: this.vp.ty + dy };
    this.redraw();
    this.on.viewport();
  }

  redraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const t0 = performance.now();
      this.draw();
      this.frameTimes.push(performance.now() - t0);
      if (this.frameTimes.length > 240) this.frameTimes.shift();
    });
  }

  /** Draw now (tests and the bench's first paint). */
  drawNow(): void {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.draw();
  }

  /** The canvas's size in CSS pixels as the last resize saw it (no layout forced while drawing). */
  private size: { w: number; h: number } | undefined;
  private get cssWidth(): number {
    return this.size?.w || this.canvas.clientWidth;
  }
  private get cssHeight(): number {
    return this.size?.h || this.canvas.clientHeight;
  }

  private resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = this.host.clientWidth;
    const h = this.host.clientHeight;
    this.size = { w, h };
    if (this.canvas.width === Math.max(1, Math.round(w * dpr)) && this.canvas.height === Math.max(1, Math.round(h * dpr))) return;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${h}px`;
    const mw = Math.min(200, Math.max(120, w * 0.18));
    this.minimap.width = Math.round(mw * dpr);
    this.minimap.height = Math.round(mw * 0.75 * dpr);
    this.minimap.style.width = `${mw}px`;
    this.minimap.style.height = `${mw * 0.75}px`;
    this.miniCache = undefined;
    this.draw();
  }

  private draw(): void {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = this.theme.bg;
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.layout || !this.view) return;
    const { s, tx, ty } = this.vp;
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * tx, dpr * ty);
    const view = { x0: -tx / s, y0: -ty / s, x1: (this.canvas.width / dpr - tx) / s, y1: (this.canvas.height / dpr - ty) / s };
    this.paint(ctx, s, view);
    this.drawMinimap();
  }

  /** Paint the graph in world coordinates (the caller set the transform); `clip` culls. */
  paint(ctx: CanvasRenderingContext2D, s: number, clip: { x0: number; y0: number; x1: number; y1: number }): void {
    const l = this.layout!;
    const v = this.view!;
    const t = this.theme;
    const n = l.boxes.length / BOX;
    const bx = l.boxes;
    const text = s >= TEXT_SCALE;
    const lw = 1 / s;
    // open groups first (they are containers), then edges, then closed boxes on top
    for (let b = 0; b < n; b++) {
      const o = b * BOX;
      if (bx[o] !== KIND_OPEN) continue;
      const x = bx[o + 2]!;
      const y = bx[o + 3]!;
      const w = bx[o + 4]!;
      const h = bx[o + 5]!;
      if (x > clip.x1 || y > clip.y1 || x + w < clip.x0 || y + h < clip.y0) continue;
      const gi = bx[o + 1]!;
      const depth = bx[o + 6]!;
      ctx.fillStyle = t.groupFill[depth % t.groupFill.length]!;
      ctx.fillRect(x, y, w, h);
      const m = this.marks.group[gi];
      const sel = this.selected?.kind === 'group' && this.selected.index === gi;
      ctx.strokeStyle = sel ? t.selection : (m?.stroke ?? t.groupStroke);
      ctx.lineWidth = (sel ? 2 : 1) * lw;
      ctx.strokeRect(x, y, w, h);
      if (sel) ctx.strokeRect(x - 4 * lw, y - 4 * lw, w + 8 * lw, h + 8 * lw);
      if (text || h * s > 14) {
        ctx.fillStyle = t.muted;
        ctx.font = `${12 / Math.max(s, 0.5)}px ${t.font}`;
        ctx.textBaseline = 'middle';
        ctx.fillText(`▾ ${v.groupLabel(gi)}`, x + 6, y + 12, Math.max(10, w - 12));
      }
    }
    // edges
    ctx.strokeStyle = t.edge;
    ctx.lineWidth = Math.max(1, 1.2 * lw);
    ctx.beginPath();
    const ne = l.edgeCount.length;
    const eb = this.edgeBox;
    for (let e = 0; e < ne; e++) {
      const o = e * 4;
      if (eb[o]! > clip.x1 || eb[o + 1]! > clip.y1 || eb[o + 2]! < clip.x0 || eb[o + 3]! < clip.y0) continue;
      const p0 = l.edgeStart[e]!;
      const p1 = l.edgeStart[e + 1]!;
      ctx.moveTo(l.pts[p0]!, l.pts[p0 + 1]!);
      for (let p = p0 + 2; p < p1; p += 2) ctx.lineTo(l.pts[p]!, l.pts[p + 1]!);
      // arrow head
      const ex = l.pts[p1 - 2]!;
      const ey = l.pts[p1 - 1]!;
      if (text) {
        ctx.moveTo(ex - 4, ey - 6);
        ctx.lineTo(ex, ey);
        ctx.lineTo(ex + 4, ey - 6);
      }
    }
    ctx.stroke();
    if (this.hoverEdge >= 0 && this.hoverEdge < ne) {
      ctx.strokeStyle = t.selection;
      ctx.lineWidth = 2.5 * lw;
      ctx.beginPath();
      const p0 = l.edgeStart[this.hoverEdge]!;
      ctx.moveTo(l.pts[p0]!, l.pts[p0 + 1]!);
      for (let p = p0 + 2; p < l.edgeStart[this.hoverEdge + 1]!; p += 2) ctx.lineTo(l.pts[p]!, l.pts[p + 1]!);
      ctx.stroke();
    }
    // nodes and closed groups
    ctx.textBaseline = 'middle';
    for (let b = 0; b < n; b++) {
      const o = b * BOX;
      const kind = bx[o]!;
      if (kind === KIND_OPEN) continue;
      const x = bx[o + 2]!;
      const y = bx[o + 3]!;
      const w = bx[o + 4]!;
      const h = bx[o + 5]!;
      if (x > clip.x1 || y > clip.y1 || x + w < clip.x0 || y + h < clip.y0) continue;
      const idx = bx[o + 1]!;
      const isNode = kind === KIND_NODE;
      const m = isNode ? this.marks.node[idx] : this.marks.group[idx];
      ctx.fillStyle = m?.tint ?? (isNode && v.nodeIo(idx) ? t.ioFill : isNode ? t.nodeFill : t.groupFill[(bx[o + 6]! + 1) % t.groupFill.length]!);
      ctx.fillRect(x, y, w, h);
      const sel = this.selected && this.selected.index === idx && (this.selected.kind === 'node') === isNode;
      const match = isNode && this.matches.has(idx);
      const linked = isNode && this.linked.has(idx);
      ctx.lineWidth = (sel || m?.stroke ? 2.2 : 1) * lw;
      ctx.strokeStyle = sel ? t.selection : (m?.stroke ?? (linked ? t.linked : isNode ? t.nodeStroke : t.groupStroke));
      if (m?.dashed) ctx.setLineDash([5 * lw, 3 * lw]);
      ctx.strokeRect(x, y, w, h);
      if (m?.dashed) ctx.setLineDash([]);
      if (match || linked) {
        ctx.strokeStyle = match ? t.match : t.linked;
        ctx.lineWidth = 3 * lw;
        ctx.strokeRect(x - 3 * lw, y - 3 * lw, w + 6 * lw, h + 6 * lw);
      }
      if (sel) {
        // a ring outside the box as well: a finding's or a rewrite's stroke can have the selection's colour (high contrast)
        ctx.strokeStyle = t.selection;
        ctx.lineWidth = 2 * lw;
        ctx.strokeRect(x - 6 * lw, y - 6 * lw, w + 12 * lw, h + 12 * lw);
      }
      if (!isNode && kind === KIND_GROUP) {
        // a closed group reads as a stack
        ctx.strokeStyle = t.groupStroke;
        ctx.lineWidth = lw;
        ctx.strokeRect(x + 3, y + 3, w, h);
      }
      if (!text) continue;
      ctx.fillStyle = t.fg;
      if (isNode) {
        const shape = v.nodeShape(idx);
        ctx.font = `600 12px ${t.font}`;
        ctx.fillText(v.nodeOp(idx), x + 8, shape ? y + 12 : y + h / 2, w - 14);
        if (shape) {
          ctx.font = `11px ${t.font}`;
          ctx.fillStyle = t.muted;
          ctx.fillText(shape, x + 8, y + 25, w - 14);
        }
      } else {
        const size = v.groupSize(idx);
        const repeats = v.groupRepeats(idx);
        ctx.font = `600 12px ${t.font}`;
        ctx.fillText(`▸ ${v.groupLabel(idx)}`, x + 8, y + 14, w - 16);
        ctx.font = `11px ${t.font}`;
        ctx.fillStyle = t.muted;
        ctx.fillText(`${size} node${size === 1 ? '' : 's'}${repeats > 1 ? ` · 1 of ${repeats} identical` : ''}`, x + 8, y + 31, w - 16);
      }
      if (m?.badge) {
        ctx.font = `600 10px ${t.font}`;
        const bw = Math.min(w / 2, ctx.measureText(m.badge).width + 8);
        ctx.fillStyle = m.stroke ?? t.selection;
        ctx.fillRect(x + w - bw, y - 7, bw, 13);
        ctx.fillStyle = t.bg;
        ctx.fillText(m.badge, x + w - bw + 4, y - 0.5, bw - 6);
      }
    }
  }

  private drawMinimap(): void {
    const l = this.layout;
    if (!l) return;
    const mm = this.minimap;
    const ctx = this.miniCtx;
    const k = Math.min(mm.width / Math.max(1, l.width), mm.height / Math.max(1, l.height));
    if (!this.miniCache) {
      const c = this.miniPicture;
      if (c.width !== mm.width) c.width = mm.width;
      if (c.height !== mm.height) c.height = mm.height;
      const cx = this.miniPictureCtx;
      cx.setTransform(1, 0, 0, 1, 0, 0);
      cx.fillStyle = this.theme.bg;
      cx.fillRect(0, 0, c.width, c.height);
      const n = l.boxes.length / BOX;
      for (let b = 0; b < n; b++) {
        const o = b * BOX;
        const kind = l.boxes[o]!;
        const idx = l.boxes[o + 1]!;
        const m = kind === KIND_NODE ? this.marks.node[idx] : this.marks.group[idx];
        const r = [l.boxes[o + 2]! * k, l.boxes[o + 3]! * k, Math.max(1, l.boxes[o + 4]! * k), Math.max(1, l.boxes[o + 5]! * k)] as const;
        if (kind === KIND_OPEN) {
          cx.strokeStyle = this.theme.groupStroke;
          cx.strokeRect(...r);
        } else {
          cx.fillStyle = m?.stroke ?? this.theme.muted;
          cx.fillRect(...r);
        }
      }
      this.miniCache = c;
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.miniCache, 0, 0);
    const dpr = window.devicePixelRatio || 1;
    const { s, tx, ty } = this.vp;
    ctx.strokeStyle = this.theme.selection;
    ctx.lineWidth = 1.5 * dpr;
    ctx.strokeRect((-tx / s) * k, (-ty / s) * k, (this.canvas.width / dpr / s) * k, (this.canvas.height / dpr / s) * k);
    // only a change touches the DOM (setting it each frame would restyle the page each frame)
    const hide = l.width * this.vp.s < this.cssWidth && l.height * this.vp.s < this.cssHeight;
    if (this.minimap.hidden !== hide) this.minimap.hidden = hide;
  }

  hitTest(px: number, py: number): Hit | undefined {
    const l = this.layout;
    if (!l) return undefined;
    const x = (px - this.vp.tx) / this.vp.s;
    const y = (py - this.vp.ty) / this.vp.s;
    const n = l.boxes.length / BOX;
    let openHit: Hit | undefined;
    for (let b = n - 1; b >= 0; b--) {
      const o = b * BOX;
      const bx = l.boxes[o + 2]!;
      const by = l.boxes[o + 3]!;
      if (x < bx || y < by || x > bx + l.boxes[o + 4]! || y > by + l.boxes[o + 5]!) continue;
      const kind = l.boxes[o]!;
      const index = l.boxes[o + 1]!;
      if (kind === KIND_NODE) return { kind: 'node', index, box: b };
      if (kind === KIND_GROUP) return { kind: 'group', index, box: b, header: false, open: false };
      // open groups: the innermost one wins unless a box inside is hit
      openHit ??= { kind: 'group', index, box: b, header: y - by < 24, open: true };
    }
    return openHit;
  }

  /** The drawn edge nearest to a screen point (within 6 px), or -1. */
  edgeAt(px: number, py: number): number {
    const l = this.layout;
    if (!l) return -1;
    const x = (px - this.vp.tx) / this.vp.s;
    const y = (py - this.vp.ty) / this.vp.s;
    const tol = 6 / this.vp.s;
    let best = -1;
    let bestD = tol * tol;
    const ne = l.edgeCount.length;
    for (let e = 0; e < ne; e++) {
      const o = e * 4;
      if (this.edgeBox[o]! - tol > x || this.edgeBox[o + 2]! + tol < x || this.edgeBox[o + 1]! - tol > y || this.edgeBox[o + 3]! + tol < y) continue;
      for (let p = l.edgeStart[e]!; p + 3 < l.edgeStart[e + 1]!; p += 2) {
        const d = segDist2(x, y, l.pts[p]!, l.pts[p + 1]!, l.pts[p + 2]!, l.pts[p + 3]!);
        if (d < bestD) {
          bestD = d;
          best = e;
        }
      }
    }
    return best;
  }

  private bindPointer(): void {
    const c = this.canvas;
    let drag: { x: number; y: number; moved: boolean } | undefined;
    c.addEventListener('pointerdown', (ev) => {
      c.focus();
      drag = { x: ev.clientX, y: ev.clientY, moved: false };
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener('pointermove', (ev) => {
      const r = c.getBoundingClientRect();
      if (drag) {
        const dx = ev.clientX - drag.x;
        const dy = ev.clientY - drag.y;
        if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
          drag.moved = true;
          drag.x = ev.clientX;
          drag.y = ev.clientY;
          this.panBy(dx, dy);
        }
        return;
      }
      const px = ev.clientX - r.left;
      const py = ev.clientY - r.top;
      const hit = this.hitTest(px, py);
      let text: string | undefined;
      let edge = -1;
      if (hit?.kind === 'node') text = this.view!.nodeId(hit.index);
      else if (!hit || hit.open) {
        edge = this.edgeAt(px, py);
        if (edge >= 0) text = this.edgeText(edge);
      }
      if (edge !== this.hoverEdge) {
        this.hoverEdge = edge;
        this.redraw();
      }
      this.on.hover(text, ev.clientX, ev.clientY);
    });
    c.addEventListener('pointerup', (ev) => {
      const d = drag;
      drag = undefined;
      if (d && !d.moved) {
        const r = c.getBoundingClientRect();
        this.on.click(this.hitTest(ev.clientX - r.left, ev.clientY - r.top), ev);
      }
    });
    c.addEventListener('pointerleave', () => this.on.hover(undefined, 0, 0));
    c.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const r = c.getBoundingClientRect();
        if (ev.ctrlKey || ev.metaKey) this.zoom(Math.exp(-ev.deltaY * 0.0025), ev.clientX - r.left, ev.clientY - r.top);
        else this.panBy(-ev.deltaX, -ev.deltaY);
      },
      { passive: false },
    );
    let miniDrag = false;
    const miniPan = (ev: PointerEvent) => {
      const l = this.layout;
      if (!l) return;
      const r = this.minimap.getBoundingClientRect();
      const k = Math.min(r.width / Math.max(1, l.width), r.height / Math.max(1, l.height));
      const wx = (ev.clientX - r.left) / k;
      const wy = (ev.clientY - r.top) / k;
      this.vp = { ...this.vp, tx: c.clientWidth / 2 - wx * this.vp.s, ty: c.clientHeight / 2 - wy * this.vp.s };
      this.redraw();
      this.on.viewport();
    };
    this.minimap.addEventListener('pointerdown', (ev) => {
      miniDrag = true;
      this.minimap.setPointerCapture(ev.pointerId);
      miniPan(ev);
    });
    this.minimap.addEventListener('pointermove', (ev) => miniDrag && miniPan(ev));
    this.minimap.addEventListener('pointerup', () => (miniDrag = false));
  }

  edgeText(e: number): string {
    const l = this.layout!;
    const v = this.view!;
    const refs = Array.from(l.edgeRefs.subarray(l.edgeRefStart[e]!, l.edgeRefStart[e + 1]!));
    const lines = refs.slice(0, 4).map((r) => {
      const shape = v.edgeShape(r);
      return `${v.edgeTensor(r)}${shape ? ` · ${shape}` : ''}`;
    });
    const more = l.edgeCount[e]! - lines.length;
    return lines.join('\n') + (more > 0 ? `\n… ${more} more tensor${more === 1 ? '' : 's'}` : '');
  }

  /** The whole laid-out graph as SVG text (for reports). */
  toSvg(): string {
    const l = this.layout!;
    const v = this.view!;
    const t = this.theme;
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    const out: string[] = [];
    const W = Math.ceil(l.width + 40);
    const H = Math.ceil(l.height + 40);
    out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="-20 -20 ${W} ${H}" font-family="${esc(t.font)}" font-size="12">`);
    out.push(`<rect x="-20" y="-20" width="${W}" height="${H}" fill="${esc(t.bg)}"/>`);
    const n = l.boxes.length / BOX;
    for (let b = 0; b < n; b++) {
      const o = b * BOX;
      if (l.boxes[o] !== KIND_OPEN) continue;
      const gi = l.boxes[o + 1]!;
      const [x, y, w, h] = [l.boxes[o + 2]!, l.boxes[o + 3]!, l.boxes[o + 4]!, l.boxes[o + 5]!];
      out.push(
        `<g><rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${esc(t.groupFill[l.boxes[o + 6]! % t.groupFill.length]!)}" stroke="${esc(this.marks.group[gi]?.stroke ?? t.groupStroke)}"/><text x="${x + 6}" y="${y + 16}" fill="${esc(t.muted)}">${esc(v.groupLabel(gi))}</text></g>`,
      );
    }
    const paths: string[] = [];
    for (let e = 0; e < l.edgeCount.length; e++) {
      const pts: string[] = [];
      for (let p = l.edgeStart[e]!; p < l.edgeStart[e + 1]!; p += 2) pts.push(`${l.pts[p]!.toFixed(1)},${l.pts[p + 1]!.toFixed(1)}`);
      paths.push(`<polyline points="${pts.join(' ')}"><title>${esc(this.edgeText(e))}</title></polyline>`);
    }
    out.push(`<g fill="none" stroke="${esc(t.edge)}" stroke-width="1.2">${paths.join('')}</g>`);
    for (let b = 0; b < n; b++) {
      const o = b * BOX;
      const kind = l.boxes[o]!;
      if (kind === KIND_OPEN) continue;
      const idx = l.boxes[o + 1]!;
      const [x, y, w, h] = [l.boxes[o + 2]!, l.boxes[o + 3]!, l.boxes[o + 4]!, l.boxes[o + 5]!];
      const m = kind === KIND_NODE ? this.marks.node[idx] : this.marks.group[idx];
      const fill = m?.tint ?? (kind === KIND_NODE ? (v.nodeIo(idx) ? t.ioFill : t.nodeFill) : t.groupFill[1 % t.groupFill.length]!);
      const stroke = m?.stroke ?? (kind === KIND_NODE ? t.nodeStroke : t.groupStroke);
      const title = kind === KIND_NODE ? v.nodeId(idx) : v.groupId(idx);
      const l1 = kind === KIND_NODE ? v.nodeOp(idx) : v.groupLabel(idx);
      const l2 = kind === KIND_NODE ? v.nodeShape(idx) : `${v.groupSize(idx)} nodes`;
      out.push(
        `<g><title>${esc(title)}</title><rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${esc(fill)}" stroke="${esc(stroke)}"${m?.dashed ? ' stroke-dasharray="5 3"' : ''}/>` +
          `<text x="${x + 8}" y="${y + 15}" fill="${esc(t.fg)}" font-weight="600">${esc(l1)}</text>` +
          (l2 ? `<text x="${x + 8}" y="${y + 28}" fill="${esc(t.muted)}" font-size="11">${esc(l2)}</text>` : '') +
          (m?.badge ? `<text x="${x + w - 4}" y="${y - 2}" text-anchor="end" fill="${esc(m.stroke ?? t.fg)}" font-size="10">${esc(m.badge)}</text>` : '') +
          `</g>`,
      );
    }
    out.push('</svg>');
    return out.join('\n');
  }

  /** The whole laid-out graph as a PNG data URL, at most `maxSide` pixels on its longer side. */
  toPng(maxSide = 8192): string {
    const l = this.layout!;
    const k = Math.min(2, maxSide / Math.max(l.width + 40, l.height + 40));
    const c = document.createElement('canvas');
    c.width = Math.ceil((l.width + 40) * k);
    c.height = Math.ceil((l.height + 40) * k);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = this.theme.bg;
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.setTransform(k, 0, 0, k, 20 * k, 20 * k);
    const hover = this.hoverEdge;
    this.hoverEdge = -1;
    this.paint(ctx, Math.max(k, TEXT_SCALE), { x0: -Infinity, y0: -Infinity, x1: Infinity, y1: Infinity });
    this.hoverEdge = hover;
    return c.toDataURL('image/png');
  }
}

function segDist2(px: number, py: number, x0: number, y0: number, x1: number, y1: number): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len = dx * dx + dy * dy;
  let t = len ? ((px - x0) * dx + (py - y0) * dy) / len : 0;
  t = Math.max(0, Math.min(1, t));
  const ex = x0 + t * dx - px;
  const ey = y0 + t * dy - py;
  return ex * ex + ey * ey;
}

/** Theme colours from VS Code's CSS variables (light, dark and high contrast). */
export function readTheme(): Theme {
  const cs = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  const hc = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  const bg = v('--vscode-editor-background', '#1e1e1e');
  return {
    bg,
    fg: v('--vscode-editor-foreground', '#cccccc'),
    muted: v('--vscode-descriptionForeground', '#9d9d9d'),
    nodeFill: v('--vscode-editorWidget-background', '#252526'),
    nodeStroke: hc ? v('--vscode-contrastBorder', '#6fc3df') : v('--vscode-editorWidget-border', '#454545'),
    ioFill: v('--vscode-badge-background', '#4d4d4d'),
    groupFill: [v('--vscode-sideBar-background', bg), v('--vscode-editorGroupHeader-tabsBackground', bg), v('--vscode-input-background', bg)],
    groupStroke: hc ? v('--vscode-contrastBorder', '#6fc3df') : v('--vscode-panel-border', '#80808059'),
    edge: v('--vscode-editorLineNumber-foreground', '#858585'),
    selection: v('--vscode-focusBorder', '#007fd4'),
    match: v('--vscode-editor-findMatchBorder', v('--vscode-charts-yellow', '#cca700')),
    linked: v('--vscode-charts-blue', '#3794ff'),
    font: v('--vscode-font-family', 'system-ui, sans-serif'),
  };
}
