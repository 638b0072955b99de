// step_detail.js: the panel beside the tree that shows one step in full:
// its envelope (seq, time, node, ids), the fields its type makes important
// (an LLM call's model/tokens/cost/latency, a tool call's result and
// duration, an error's message and stack) and its payload as collapsible JSON.
import { h, timeEl, duration, int, cost, badge } from './util.js';
import { jsonView } from './json_view.js';
import { isError } from './step_model.js';

function field(label, value) {
  return [h('dt', null, label), h('dd', null, value ?? h('span', { class: 'muted' }, '—'))];
}

function stepLink(ev, pick, text) {
  return h('a', { href: '#', class: 'steplink', onclick: (e) => { e.preventDefault(); pick(ev); } }, text || '#' + ev.seq + ' ' + ev.type);
}

// The panel for `ev`; pick(ev) selects another step (a call's result, ...).
export function stepDetail(ev, model, pick) {
  const p = ev.payload || {};
  const facts = [];
  const extra = [];
  if (ev.type === 'llm_call') {
    facts.push(field('model', p.model), field('provider', p.provider), field('input tokens', p.input_tokens != null ? int(p.input_tokens) : null),
      field('output tokens', p.output_tokens != null ? int(p.output_tokens) : null), field('cost', p.cost_usd != null ? cost(p.cost_usd) : null),
      field('latency', p.latency_ms != null ? duration(p.latency_ms) : null));
  } else if (ev.type === 'tool_call') {
    const r = model.resultOf(ev);
    facts.push(field('tool', p.tool), field('call id', h('code', null, p.call_id)),
      field('result', r ? h('span', null, badge(r.payload.is_error ? 'error' : 'ok', r.payload.is_error ? 'failed' : 'succeeded'), ' ', stepLink(r, pick)) : 'pending'),
      field('duration', r ? duration(model.callDuration(ev)) : null));
  } else if (ev.type === 'tool_result') {
    const c = model.callOf(ev);
    facts.push(field('call', c ? stepLink(c, pick, '#' + c.seq + ' ' + c.payload.tool) : h('code', null, p.call_id)),
      field('is error', String(p.is_error === true)), field('duration', p.duration_ms != null ? duration(p.duration_ms) : null));
  } else if (ev.type === 'error') {
    extra.push(h('div', { class: 'err-box' }, h('strong', null, p.kind + (p.fatal ? ' (fatal)' : '')), h('p', null, p.message),
      p.stack ? h('pre', { class: 'stack' }, p.stack) : null));
  } else if (ev.type === 'log') {
    facts.push(field('level', badge(p.level, p.level === 'error' ? 'failed' : p.level)));
    extra.push(h('pre', { class: 'text' }, p.message));
  } else if (ev.type === 'thought') {
    extra.push(h('pre', { class: 'text' }, p.text));
  } else if (ev.type === 'span') {
    facts.push(field('name', p.name), field('kind', p.kind), field('status', p.status), field('duration', p.duration_ms != null ? duration(p.duration_ms) : null));
  }
  const parent = model.parentOf(ev);
  return h('div', { class: 'detail' + (isError(ev) ? ' is-error' : '') },
    h('div', { class: 'detail-head' },
      h('span', { class: 'seq' }, '#' + ev.seq), badge(ev.type, 't-' + ev.type),
      isError(ev) && ev.type !== 'error' ? badge('error', 'failed') : null, h('span', { class: 'spacer' }), timeEl(ev.ts)),
    h('dl', { class: 'facts' },
      field('node', ev.node), field('step id', ev.id ? h('code', null, ev.id) : null),
      field('parent', parent ? stepLink(parent, pick) : ev.parent_id ? h('code', null, ev.parent_id) : null),
      field('offset', String(ev.offset)), field('received', timeEl(ev.received_at)), facts),
    extra,
    h('h3', null, 'Payload'), jsonView(p, 3),
    h('details', { class: 'envelope' }, h('summary', null, 'Stored event'), h('pre', null, JSON.stringify(ev, null, 2))));
}
