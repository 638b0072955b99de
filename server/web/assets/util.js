// util.js: the small DOM and formatting helpers every view uses. Times are
// shown in the viewer's local time with the UTC string on hover.

// h('div', {class: 'x', onclick: f, text: 't'}, child, ...): one element.
export function h(tag, props, ...kids) {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of kids.flat(Infinity)) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
});
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

// "02 Dec 2026, 17:04:05" in local time; the time alone when `short`.
export function localTime(iso, short) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  if (short) return timeFmt.format(d) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  return dateFmt.format(d);
}

// <time> in local time, the UTC string in its tooltip.
export function timeEl(iso, short) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  return h('time', { datetime: iso, title: 'UTC ' + iso.replace('T', ' ').replace('Z', '') }, localTime(iso, short));
}

export function ms(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

// 850 ms, 3.42 s, 4m 05s, 2h 07m.
export function duration(msv) {
  if (msv == null || !Number.isFinite(msv)) return '—';
  if (msv < 1000) return Math.round(msv) + ' ms';
  if (msv < 60000) return (msv / 1000).toFixed(msv < 10000 ? 2 : 1) + ' s';
  const s = Math.floor(msv / 1000);
  if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
}

const intFmt = new Intl.NumberFormat(undefined);
export function int(n) {
  return n == null ? '—' : intFmt.format(n);
}

export function cost(usd) {
  if (usd == null) return '—';
  const v = Number(usd);
  if (v === 0) return '$0';
  if (v < 0.01) return '$' + v.toPrecision(2);
  return '$' + v.toFixed(v < 10 ? 3 : 2);
}

export function bytes(n) {
  if (n == null) return '—';
  if (n < 1024) return n + ' B';
  if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
  if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MiB';
  return (n / 1073741824).toFixed(2) + ' GiB';
}

// One line of at most `max` characters from any JSON value.
export function preview(value, max = 120) {
  let s = typeof value === 'string' ? value : JSON.stringify(value);
  if (s === undefined) s = String(value);
  s = s.replace(/\s+/g, ' ');
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

export function badge(text, kind) {
  return h('span', { class: 'badge ' + (kind || text) }, text);
}

// Calls fn at most once per `wait` ms, with the latest arguments, trailing.
export function throttle(fn, wait) {
  let timer = null;
  let lastArgs = null;
  return (...args) => {
    lastArgs = args;
    if (timer) return;
    timer = setTimeout(() => { timer = null; fn(...lastArgs); }, wait);
  };
}

export function toast(text, kind) {
  const box = document.getElementById('toasts');
  const t = h('div', { class: 'toast ' + (kind || '') }, text);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

// True when a key press belongs to a text field rather than to a shortcut.
export function typing(e) {
  const t = e.target;
  return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}
