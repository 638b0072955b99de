// stream.js: the page's one EventSource on /observability/stream. A view
// calls follow() with its filter and the last offset it already holds; the
// previous subscription is closed first, so there is never more than one.
//
// Frames: events come unnamed (onmessage, the type is in data.type) with
// `id: <offset>`; they are handed on in offset order and any offset at or
// below the last one seen is dropped (a resumed connection never shows a
// step twice). Control frames: `overflow` {"last_offset": N} (the server
// closes; we reopen from N), `rewound` {"last_offset": N} (the server's log
// is behind our position, e.g. after a restore: the view reloads its data).
// A dropped connection is resumed by EventSource itself with Last-Event-ID;
// when it gives up (a non-200 answer) we reopen from the last offset with a
// growing delay, after checking whether the key is the reason.
import { api, getKey } from './api.js';

// Counters a test (or a curious user in the console) can read.
export const streamStats = { opens: 0, errors: 0, delivered: 0, duplicates: 0, overflows: 0, rewinds: 0, status: 'idle' };

let current = null;  // the live subscription

function setStatus(sub, status) {
  if (sub !== current) return;
  streamStats.status = status;
  const box = document.getElementById('live');
  if (box) {
    box.dataset.state = status;
    box.querySelector('.live-text').textContent = status;
  }
  sub.onStatus?.(status);
}

function open(sub) {
  if (sub !== current) return;
  const q = new URLSearchParams();
  for (const id of sub.runIds) q.append('run_id', id);
  if (sub.last != null) q.set('last_event_id', String(sub.last));
  const key = getKey();
  if (key) q.set('access_token', key);
  const es = new EventSource('/observability/stream' + (q.toString() ? '?' + q : ''));
  sub.es = es;
  streamStats.opens++;
  setStatus(sub, 'connecting');
  es.onopen = () => {
    sub.delay = 1000;
    const resumed = sub.everOpen;
    sub.everOpen = true;
    setStatus(sub, 'live');
    if (resumed) sub.onResume?.();
  };
  es.onmessage = (m) => {
    if (sub !== current) return;
    let ev;
    try { ev = JSON.parse(m.data); } catch { return; }
    const offset = typeof ev.offset === 'number' ? ev.offset : Number(m.lastEventId);
    if (sub.last != null && offset <= sub.last) { streamStats.duplicates++; return; }
    sub.last = offset;
    streamStats.delivered++;
    sub.onEvent(ev);
  };
  es.addEventListener('overflow', (m) => {
    streamStats.overflows++;
    let n = null;
    try { n = JSON.parse(m.data).last_offset; } catch { /* keep our own position */ }
    if (typeof n === 'number' && (sub.last == null || n > sub.last)) sub.last = n;
    es.close();
    if (sub === current) open(sub);
  });
  es.addEventListener('rewound', (m) => {
    streamStats.rewinds++;
    let n = 0;
    try { n = JSON.parse(m.data).last_offset; } catch { /* from the start */ }
    sub.last = n;
    sub.onRewound?.(n);
  });
  es.onerror = () => {
    if (sub !== current) return;
    streamStats.errors++;
    if (es.readyState !== EventSource.CLOSED) { setStatus(sub, 'reconnecting'); return; }
    setStatus(sub, 'offline');
    const delay = sub.delay;
    sub.delay = Math.min(sub.delay * 2, 15000);
    sub.timer = setTimeout(async () => {
      if (sub !== current) return;
      // A closed EventSource does not say why; a plain request does. On a
      // 401 we wait for a key (restart() reopens once one is given) rather
      // than prompt again: the view's own request has asked already.
      try {
        await api('/observability/runs?limit=1', { noPrompt: true });
      } catch (e) {
        if (e.status === 401 || e.status === 403) { setStatus(sub, 'needs key'); return; }
      }
      if (sub === current) open(sub);
    }, delay);
  };
}

// Follows events matching `runIds` (all runs when empty) after offset
// `after` (live from now when null). Handlers: onEvent(ev), onResume()
// (reconnected after a drop; events resume with no gap), onRewound(offset),
// onStatus(state). Returns the subscription; stop() ends it.
export function follow({ runIds = [], after = null, onEvent, onResume, onRewound, onStatus }) {
  stop();
  const sub = { runIds, last: after, onEvent, onResume, onRewound, onStatus, es: null, timer: null, delay: 1000, everOpen: false };
  current = sub;
  open(sub);
  return sub;
}

// Where the subscription stands: the offset of the last event handed on.
export function position() {
  return current ? current.last : null;
}

export function stop() {
  if (!current) return;
  const sub = current;
  current = null;
  clearTimeout(sub.timer);
  sub.es?.close();
  streamStats.status = 'idle';
  const box = document.getElementById('live');
  if (box) { box.dataset.state = 'idle'; box.querySelector('.live-text').textContent = 'idle'; }
}

// Reopens the current subscription (e.g. with a new key).
export function restart() {
  if (!current) return;
  const sub = current;
  clearTimeout(sub.timer);
  sub.es?.close();
  open(sub);
}
