// json_view.js: any JSON value as a collapsible tree of native
// <details>/<summary> (keyboard and screen-reader friendly for free). Opens
// the first levels; long arrays and objects show their first entries with a
// button for the rest, so a huge payload cannot freeze the page.
import { h } from './util.js';

const CHUNK = 100;

function scalar(v) {
  if (v === null) return h('span', { class: 'j-null' }, 'null');
  switch (typeof v) {
    case 'string': return h('span', { class: 'j-str' }, JSON.stringify(v));
    case 'number': return h('span', { class: 'j-num' }, String(v));
    case 'boolean': return h('span', { class: 'j-bool' }, String(v));
    default: return h('span', null, String(v));
  }
}

function summaryOf(v) {
  if (Array.isArray(v)) return '[' + v.length + (v.length === 1 ? ' item]' : ' items]');
  const n = Object.keys(v).length;
  return '{' + n + (n === 1 ? ' key}' : ' keys}');
}

function node(key, v, depth, openDepth) {
  const label = key == null ? null : h('span', { class: 'j-key' }, key + ': ');
  if (v === null || typeof v !== 'object') return h('div', { class: 'j-row' }, label, scalar(v));
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
  if (entries.length === 0) return h('div', { class: 'j-row' }, label, h('span', { class: 'j-muted' }, Array.isArray(v) ? '[]' : '{}'));
  const det = h('details', { class: 'j-node' }, h('summary', null, label, h('span', { class: 'j-muted' }, summaryOf(v))));
  const body = h('div', { class: 'j-body' });
  det.append(body);
  let shown = 0;
  const more = () => {
    const end = Math.min(entries.length, shown + CHUNK);
    for (; shown < end; shown++) body.append(node(entries[shown][0], entries[shown][1], depth + 1, openDepth));
    if (shown < entries.length) {
      const btn = h('button', { class: 'btn tiny', type: 'button' }, 'show ' + Math.min(CHUNK, entries.length - shown) + ' more of ' + (entries.length - shown));
      btn.addEventListener('click', () => { btn.remove(); more(); });
      body.append(btn);
    }
  };
  // Children are built when first opened: a closed subtree costs nothing.
  if (depth < openDepth) { det.open = true; more(); } else det.addEventListener('toggle', () => { if (det.open && shown === 0) more(); });
  return det;
}

// The view of `value`, its first `openDepth` levels open.
export function jsonView(value, openDepth = 2) {
  return h('div', { class: 'json' }, node(null, value, 0, openDepth),
    h('button', {
      class: 'btn tiny copy', type: 'button', title: 'Copy as JSON',
      onclick: (e) => { navigator.clipboard?.writeText(JSON.stringify(value, null, 2)); e.target.textContent = 'copied'; },
    }, 'copy'));
}
