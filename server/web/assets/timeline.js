// timeline.js: a run's steps as bars on time, one lane per `node` (the
// controller and each worker get their own). Drawn on a canvas, so 10,000
// steps cost one pass of fillRect. A tool call spans from its call to its
// result; an LLM call and a span last their latency/duration from `ts`;
// anything else is a tick. Wheel zooms around the pointer, drag pans,
// double-click fits; clicking a bar selects that step.
import { h, duration, localTime, ms } from './util.js';
import { isError, summary } from './step_model.js';

const LANE = 30;
const AXIS = 26;
const LABEL = 150;
const COLORS = {
  tool_call: '#2563eb', llm_call: '#7c3aed', span: '#0f766e', thought: '#64748b', tool_result: '#2563eb',
  log: '#94a3b8', run_started: '#16a34a', run_finished: '#16a34a', artifact: '#b45309', error: '#dc2626',
};

export class Timeline {
  // model: StepModel; onPick(ev): a bar was clicked.
  constructor(model, onPick) {
    this.model = model;
    this.onPick = onPick;
    this.canvas = h('canvas', { class: 'tl-canvas', role: 'img', 'aria-label': 'Timeline of the steps, one lane per node' });
    this.tip = h('div', { class: 'tl-tip', hidden: true });
    this.el = h('div', { class: 'timeline' },
      h('div', { class: 'tl-tools' },
        h('button', { class: 'btn tiny', type: 'button', onclick: () => this.zoom(0.5) }, 'zoom in'),
        h('button', { class: 'btn tiny', type: 'button', onclick: () => this.zoom(2) }, 'zoom out'),
        h('button', { class: 'btn tiny', type: 'button', onclick: () => this.fit() }, 'fit'),
        h('span', { class: 'muted small' }, 'wheel: zoom · drag: pan · click a bar: open the step'),
        h('span', { class: 'spacer' }),
        ['tool call', 'LLM call', 'span', 'error', 'other'].map((k) => h('span', { class: 'legend small' }, h('i', { class: 'sw sw-' + k.split(' ')[0].toLowerCase() }), k))),
      h('div', { class: 'tl-scroll' }, this.canvas, this.tip));
    this.view = null; // [t0, t1] in ms; null = fit
    this.items = [];
    this.canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    this.canvas.addEventListener('mousemove', (e) => this.onHover(e));
    this.canvas.addEventListener('mouseleave', () => { this.tip.hidden = true; });
    this.canvas.addEventListener('dblclick', () => this.fit());
    new ResizeObserver(() => this.draw()).observe(this.el);
  }

  // Lays the steps out: lanes by node in order of first appearance.
  layout() {
    const lanes = new Map();
    const items = [];
    let lo = Infinity; let hi = -Infinity;
    for (const ev of this.model.steps) {
      if (ev.type === 'tool_result' && this.model.callOf(ev)) continue; // drawn as its call's bar
      const t = ms(ev.ts);
      if (t == null) continue;
      const node = ev.node || '(no node)';
      if (!lanes.has(node)) lanes.set(node, lanes.size);
      const p = ev.payload || {};
      let end = t;
      if (ev.type === 'tool_call') {
        const r = this.model.resultOf(ev);
        const rt = r && ms(r.ts);
        end = rt != null && rt > t ? rt : t + (r?.payload.duration_ms ?? 0);
      } else if (ev.type === 'llm_call' && p.latency_ms) end = t + p.latency_ms;
      else if (ev.type === 'span' && p.duration_ms) end = t + p.duration_ms;
      const err = isError(ev) || (ev.type === 'tool_call' && this.model.resultOf(ev)?.payload.is_error === true);
      items.push({ ev, lane: lanes.get(node), t0: t, t1: end, err });
      lo = Math.min(lo, t); hi = Math.max(hi, end);
    }
    this.lanes = [...lanes.keys()];
    this.items = items;
    this.span = items.length ? [lo, Math.max(hi, lo + 1)] : [0, 1];
  }

  update() {
    this.layout();
    this.draw();
  }

  fit() { this.view = null; this.draw(); }

  zoom(f, at) {
    const [a, b] = this.view || this.pad(this.span);
    const c = at ?? (a + b) / 2;
    this.view = [c - (c - a) * f, c + (b - c) * f];
    this.draw();
  }

  pad([a, b]) {
    const m = (b - a) * 0.02;
    return [a - m, b + m];
  }

  x(t, w) {
    const [a, b] = this.view || this.pad(this.span);
    return LABEL + ((t - a) / (b - a)) * (w - LABEL - 8);
  }

  timeAt(px, w) {
    const [a, b] = this.view || this.pad(this.span);
    return a + ((px - LABEL) / (w - LABEL - 8)) * (b - a);
  }

  draw() {
    const w = this.el.clientWidth || 800;
    const hgt = AXIS + Math.max(1, this.lanes?.length || 1) * LANE + 8;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = w * dpr; this.canvas.height = hgt * dpr;
    this.canvas.style.width = w + 'px'; this.canvas.style.height = hgt + 'px';
    const g = this.canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const css = getComputedStyle(document.body);
    const fg = css.getPropertyValue('--fg').trim() || '#111';
    const muted = css.getPropertyValue('--muted').trim() || '#666';
    const grid = css.getPropertyValue('--line').trim() || '#ddd';
    g.clearRect(0, 0, w, hgt);
    g.font = '12px system-ui, sans-serif';
    if (!this.items.length) { g.fillStyle = muted; g.fillText('No timed steps yet.', LABEL, AXIS + 18); return; }
    // axis: about one tick per 110 px, at round steps
    const [a, b] = this.view || this.pad(this.span);
    const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 3e4, 6e4, 12e4, 3e5, 6e5, 18e5, 36e5, 72e5, 216e5, 864e5];
    const want = (b - a) / Math.max(1, (w - LABEL) / 110);
    const step = steps.find((s) => s >= want) || steps[steps.length - 1];
    g.fillStyle = muted; g.strokeStyle = grid; g.lineWidth = 1;
    // ticks at round offsets from the run's first step
    const origin = this.span[0];
    for (let t = origin + Math.ceil((a - origin) / step) * step; t <= b; t += step) {
      const px = Math.round(this.x(t, w)) + 0.5;
      if (px < LABEL) continue;
      g.beginPath(); g.moveTo(px, AXIS - 6); g.lineTo(px, hgt); g.stroke();
      g.fillText(t === origin ? '0' : '+' + duration(t - origin), px + 3, AXIS - 10);
    }
    this.lanes.forEach((name, i) => {
      const y = AXIS + i * LANE;
      if (i % 2 === 0) { g.fillStyle = 'rgba(127,127,127,0.07)'; g.fillRect(0, y, w, LANE); }
      g.fillStyle = fg;
      g.fillText(name.length > 20 ? name.slice(0, 19) + '…' : name, 8, y + 19);
    });
    g.strokeStyle = grid;
    g.beginPath(); g.moveTo(LABEL - 6.5, AXIS); g.lineTo(LABEL - 6.5, hgt); g.stroke();
    const sel = this.selectedSeq;
    for (const it of this.items) {
      let x0 = this.x(it.t0, w); let x1 = this.x(it.t1, w);
      if (x1 < LABEL || x0 > w) continue;
      x0 = Math.max(LABEL, x0); x1 = Math.min(w, x1);
      const bar = x1 - x0 >= 2;
      const y = AXIS + it.lane * LANE + (bar ? 7 : 5);
      g.fillStyle = it.err ? COLORS.error : COLORS[it.ev.type] || '#64748b';
      g.fillRect(x0, y, Math.max(2, x1 - x0), bar ? LANE - 14 : LANE - 10);
      if (bar && x1 - x0 > 48) {
        const p = it.ev.payload || {};
        const label = it.ev.type === 'tool_call' ? p.tool : it.ev.type === 'llm_call' ? p.model : p.name;
        if (label) {
          g.save();
          g.beginPath(); g.rect(x0, y, x1 - x0, LANE - 14); g.clip();
          g.fillStyle = '#fff';
          g.fillText(String(label), x0 + 5, y + 12);
          g.restore();
        }
      }
      if (it.ev.seq === sel) { g.strokeStyle = fg; g.lineWidth = 2; g.strokeRect(x0 - 1.5, y - 1.5, Math.max(2, x1 - x0) + 3, (bar ? LANE - 14 : LANE - 10) + 3); }
    }
  }

  itemAt(e) {
    const r = this.canvas.getBoundingClientRect();
    const px = e.clientX - r.left; const py = e.clientY - r.top;
    const lane = Math.floor((py - AXIS) / LANE);
    if (lane < 0 || px < LABEL) return null;
    const w = r.width;
    let best = null; let bestD = 5;
    for (const it of this.items) {
      if (it.lane !== lane) continue;
      const x0 = this.x(it.t0, w); const x1 = Math.max(x0 + 2, this.x(it.t1, w));
      const d = px < x0 ? x0 - px : px > x1 ? px - x1 : 0;
      if (d < bestD || (d === 0 && best && it.t1 - it.t0 < best.t1 - best.t0)) { best = it; bestD = d; }
    }
    return best;
  }

  onHover(e) {
    if (this.drag) return;
    const it = this.itemAt(e);
    this.canvas.style.cursor = it ? 'pointer' : 'grab';
    if (!it) { this.tip.hidden = true; return; }
    const r = this.canvas.getBoundingClientRect();
    this.tip.hidden = false;
    this.tip.textContent = '#' + it.ev.seq + ' ' + it.ev.type + ' · ' + localTime(it.ev.ts, true) +
      (it.t1 > it.t0 ? ' · ' + duration(it.t1 - it.t0) : '') + '\n' + summary(it.ev, this.model);
    this.tip.style.left = Math.min(e.clientX - r.left + 12, r.width - 320) + 'px';
    this.tip.style.top = e.clientY - r.top + 14 + 'px';
  }

  onWheel(e) {
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    this.zoom(e.deltaY > 0 ? 1.25 : 0.8, this.timeAt(e.clientX - r.left, r.width));
  }

  onDown(e) {
    const startX = e.clientX;
    const view = this.view || this.pad(this.span);
    const w = this.canvas.getBoundingClientRect().width;
    let moved = false;
    const move = (m) => {
      const dx = m.clientX - startX;
      if (Math.abs(dx) > 3) moved = true;
      if (!moved) return;
      this.drag = true;
      const dt = (dx / (w - LABEL - 8)) * (view[1] - view[0]);
      this.view = [view[0] - dt, view[1] - dt];
      this.draw();
    };
    const up = (u) => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      this.drag = false;
      if (!moved) { const it = this.itemAt(u); if (it) this.onPick(it.ev); }
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }
}
