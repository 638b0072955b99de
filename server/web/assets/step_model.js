// step_model.js: one run's steps in memory and the orders the views draw.
// Steps are kept by seq (each once: a step seen twice is ignored); the tree
// puts a step under its parent_id and a tool_result under the tool_call of
// the same call_id; a parent must come earlier (lower seq), which rules out
// cycles whatever the agent sent.
import { duration, int, cost, preview, ms, bytes } from './util.js';

export function isError(ev) {
  const p = ev.payload || {};
  return ev.type === 'error' || (ev.type === 'tool_result' && p.is_error === true) ||
    (ev.type === 'log' && p.level === 'error') || (ev.type === 'span' && p.status === 'error') ||
    (ev.type === 'run_finished' && p.status === 'failed');
}

export class StepModel {
  constructor() {
    this.steps = [];            // in seq order
    this.bySeq = new Map();
    this.byId = new Map();      // event id -> step
    this.calls = new Map();     // call_id -> tool_call step
    this.results = new Map();   // call_id -> tool_result step
    this.collapsed = new Set(); // seqs whose children are hidden
    this.errors = [];           // error steps, seq order
    this.lastOffset = null;
    this.rows = [];             // flattened tree: {ev, depth, kids}
    this.dirty = true;
  }

  // Adds a stored event; false when this seq is already held.
  add(ev) {
    if (this.bySeq.has(ev.seq)) return false;
    this.bySeq.set(ev.seq, ev);
    if (this.steps.length && this.steps[this.steps.length - 1].seq > ev.seq) {
      let i = this.steps.length;
      while (i > 0 && this.steps[i - 1].seq > ev.seq) i--;
      this.steps.splice(i, 0, ev);
    } else this.steps.push(ev);
    if (ev.id) this.byId.set(ev.id, ev);
    const p = ev.payload || {};
    if (ev.type === 'tool_call' && p.call_id != null && !this.calls.has(p.call_id)) this.calls.set(p.call_id, ev);
    if (ev.type === 'tool_result' && p.call_id != null && !this.results.has(p.call_id)) this.results.set(p.call_id, ev);
    if (isError(ev)) {
      this.errors.push(ev);
      if (this.errors.length > 1 && this.errors[this.errors.length - 2].seq > ev.seq) this.errors.sort((a, b) => a.seq - b.seq);
    }
    if (this.lastOffset == null || ev.offset > this.lastOffset) this.lastOffset = ev.offset;
    this.dirty = true;
    return true;
  }

  parentOf(ev) {
    if (ev.parent_id != null) {
      const p = this.byId.get(ev.parent_id);
      if (p && p.seq < ev.seq) return p;
    }
    if (ev.type === 'tool_result') {
      const c = this.calls.get(ev.payload?.call_id);
      if (c && c.seq < ev.seq) return c;
    }
    return null;
  }

  // The tool_result paired with a tool_call (same call_id), if any.
  resultOf(call) {
    return call.type === 'tool_call' ? this.results.get(call.payload?.call_id) || null : null;
  }

  callOf(result) {
    return result.type === 'tool_result' ? this.calls.get(result.payload?.call_id) || null : null;
  }

  // How long a tool call took: the result's duration_ms, else the time between them.
  callDuration(call) {
    const r = this.resultOf(call);
    if (!r) return null;
    if (r.payload.duration_ms != null) return r.payload.duration_ms;
    const a = ms(call.ts); const b = ms(r.ts);
    return a != null && b != null ? b - a : null;
  }

  // The flattened tree (rebuilt only after a change).
  tree() {
    if (!this.dirty) return this.rows;
    const kids = new Map();
    const roots = [];
    for (const ev of this.steps) {
      const p = this.parentOf(ev);
      if (p) {
        let list = kids.get(p.seq);
        if (!list) kids.set(p.seq, (list = []));
        list.push(ev);
      } else roots.push(ev);
    }
    const rows = [];
    const stack = [];
    for (let i = roots.length - 1; i >= 0; i--) stack.push([roots[i], 0]);
    while (stack.length) {
      const [ev, depth] = stack.pop();
      const ch = kids.get(ev.seq);
      rows.push({ ev, depth, kids: ch ? ch.length : 0 });
      if (ch && !this.collapsed.has(ev.seq)) for (let i = ch.length - 1; i >= 0; i--) stack.push([ch[i], depth + 1]);
    }
    this.rows = rows;
    this.dirty = false;
    return rows;
  }

  toggle(seq, open) {
    const isOpen = !this.collapsed.has(seq);
    if (open === isOpen) return false;
    if (isOpen) this.collapsed.add(seq); else this.collapsed.delete(seq);
    this.dirty = true;
    return true;
  }

  // Opens every ancestor of `ev` so it is in the tree.
  reveal(ev) {
    for (let p = this.parentOf(ev); p; p = this.parentOf(p)) if (this.collapsed.delete(p.seq)) this.dirty = true;
  }

  rowIndexOf(seq) {
    return this.tree().findIndex((r) => r.ev.seq === seq);
  }
}

// The one-line description of a step shown in the tree and the timeline.
export function summary(ev, model) {
  const p = ev.payload || {};
  switch (ev.type) {
    case 'run_started': return [p.name, p.agent && 'agent ' + p.agent].filter(Boolean).join(' · ');
    case 'run_finished': return p.status + (p.summary ? ' — ' + preview(p.summary, 100) : '');
    case 'thought': return preview(p.text, 160);
    case 'tool_call': {
      const r = model && model.resultOf(ev);
      const d = model && model.callDuration(ev);
      const state = r ? (r.payload.is_error ? ' → error' : ' → ok') : ' → pending';
      return p.tool + '(' + preview(p.arguments, 70) + ')' + state + (d != null ? ' in ' + duration(d) : '');
    }
    case 'tool_result': return (p.is_error ? 'error: ' : '') + preview(p.output, 110) + (p.duration_ms != null ? ' · ' + duration(p.duration_ms) : '');
    case 'llm_call': return [p.model, p.provider,
      (p.input_tokens != null || p.output_tokens != null) && int(p.input_tokens ?? 0) + ' → ' + int(p.output_tokens ?? 0) + ' tok',
      p.cost_usd != null && cost(p.cost_usd), p.latency_ms != null && duration(p.latency_ms)].filter(Boolean).join(' · ');
    case 'error': return (p.fatal ? 'FATAL ' : '') + p.kind + ': ' + preview(p.message, 140);
    case 'log': return '[' + p.level + '] ' + preview(p.message, 140);
    case 'span': return [p.name, p.kind, p.status, p.duration_ms != null && duration(p.duration_ms)].filter(Boolean).join(' · ');
    case 'artifact': return [p.name, p.content_type, p.size != null && bytes(p.size)].filter(Boolean).join(' · ');
    default: return preview(p, 140);
  }
}
