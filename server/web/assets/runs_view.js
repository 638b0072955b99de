// runs_view.js: the runs, newest first, a page at a time (cursor paging: the
// database is never read whole), filtered by status, agent, tag and time
// range, with the filters in the URL so a view can be shared. Live: the
// stream (all runs) brings new runs to the top and refreshes a run's row
// (status, steps, errors, tokens, cost, duration) when its events arrive.
// Totals the list route does not carry are read per run for the rows on
// screen only.
import { h, clear, timeEl, duration, int, cost, badge, throttle, ms, typing } from './util.js';
import { api, errorPanel } from './api.js';
import { follow, stop } from './stream.js';
import { VList } from './vlist.js';

const PAGE = 50;
const FILTERS = ['status', 'agent', 'tag', 'since', 'until'];

export const runsViewState = { current: null };  // for tests

function toLocalInput(iso) {
  const t = ms(iso);
  if (t == null) return '';
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function mountRunsView(root, query, navigate) {
  const filter = {};
  for (const k of FILTERS) if (query.get(k)) filter[k] = query.get(k);
  const vs = { runs: [], byId: new Map(), details: new Map(), cursor: null, done: false, disposed: false, loading: false };
  runsViewState.current = vs;

  const status = h('select', { id: 'f-status', 'aria-label': 'Status' },
    ['', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => h('option', { value: s }, s || 'any status')));
  status.value = filter.status || '';
  const agent = h('input', { id: 'f-agent', type: 'search', placeholder: 'agent', 'aria-label': 'Agent', value: filter.agent || '' });
  const tag = h('input', { id: 'f-tag', type: 'search', placeholder: 'tag', 'aria-label': 'Tag', value: filter.tag || '' });
  const since = h('input', { id: 'f-since', type: 'datetime-local', 'aria-label': 'Started since (local time)', value: toLocalInput(filter.since) });
  const until = h('input', { id: 'f-until', type: 'datetime-local', 'aria-label': 'Started until (local time)', value: toLocalInput(filter.until) });
  const form = h('form', { class: 'filters', role: 'search' },
    h('label', null, 'Status ', status), agent, tag,
    h('label', null, 'since ', since), h('label', null, 'until ', until),
    h('button', { class: 'btn primary', type: 'submit' }, 'Apply'),
    Object.keys(filter).length ? h('a', { class: 'btn ghost', href: '#/runs' }, 'Clear') : null);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (status.value) q.set('status', status.value);
    if (agent.value.trim()) q.set('agent', agent.value.trim());
    if (tag.value.trim()) q.set('tag', tag.value.trim());
    if (fromLocalInput(since.value)) q.set('since', fromLocalInput(since.value));
    if (fromLocalInput(until.value)) q.set('until', fromLocalInput(until.value));
    navigate('#/runs' + (q.toString() ? '?' + q : ''));
  });
  status.addEventListener('change', () => form.requestSubmit());

  const cols = ['Status', 'Run', 'Agent', 'Tags', 'Started', 'Duration', 'Steps', 'Errors', 'Tokens', 'Cost'];
  const head = h('div', { class: 'runs-head', 'aria-hidden': 'true' }, cols.map((c) => h('span', null, c)));
  const list = new VList({
    rowHeight: 40, fitContent: true, label: 'Runs, newest first', render: (i, el) => renderRow(i, el),
    onActivate: (i) => { const r = vs.runs[i]; if (r) navigate('#/run/' + encodeURIComponent(r.id)); },
  });
  const more = h('button', { class: 'btn', type: 'button', hidden: true, onclick: () => loadPage() }, 'Load more');
  const foot = h('div', { class: 'runs-foot muted small' });
  const msg = h('div');
  clear(root).append(h('section', { class: 'runs-view' },
    h('div', { class: 'view-head' }, h('h1', null, 'Runs'), form), msg,
    h('div', { class: 'runs-table' }, head, list.el), h('div', { class: 'row' }, more, foot)));

  // Per-run totals (tokens, cost, duration) for the rows drawn, a few at a time.
  const queue = [];
  let inFlight = 0;
  function wantDetail(id) {
    if (vs.details.has(id) || queue.includes(id)) return;
    queue.push(id);
    pump();
  }
  function pump() {
    while (inFlight < 4 && queue.length) {
      const id = queue.shift();
      inFlight++;
      api('/observability/runs/' + encodeURIComponent(id)).then((d) => {
        vs.details.set(id, d);
        const r = vs.byId.get(id);
        if (r) Object.assign(r, d);
        list.invalidate();
      }).catch(() => vs.details.set(id, null)).finally(() => { inFlight--; pump(); });
    }
  }

  function renderRow(i, el) {
    const r = vs.runs[i];
    if (!r) return;
    const d = vs.details.get(r.id);
    if (d === undefined) wantDetail(r.id);
    const dur = r.duration_ms != null ? r.duration_ms
      : r.status === 'running' && r.started_at ? Date.now() - ms(r.started_at) : null;
    const tokens = d ? (d.input_tokens || 0) + (d.output_tokens || 0) : null;
    el.classList.add('run-row');
    if (r.error_count) el.classList.add('has-errors');
    el.dataset.runId = r.id;
    el.append(
      h('span', null, badge(r.status)),
      h('span', { class: 'name' }, h('a', { href: '#/run/' + encodeURIComponent(r.id), tabindex: '-1' }, r.name || r.id),
        r.name ? h('small', { class: 'muted' }, r.id) : null),
      h('span', { class: 'agent-cell' }, r.agent || ''),
      h('span', { class: 'tags' }, (r.tags || []).slice(0, 4).map((t) => h('span', { class: 'tag' }, t))),
      h('span', null, timeEl(r.started_at)),
      h('span', { class: 'num dur', dataset: r.duration_ms == null && r.status === 'running' && r.started_at ? { since: r.started_at } : null },
        dur != null ? duration(dur) : '—'),
      h('span', { class: 'num' }, int(r.step_count)),
      h('span', { class: 'num' + (r.error_count ? ' bad' : '') }, int(r.error_count)),
      h('span', { class: 'num' }, tokens == null ? '…' : int(tokens)),
      h('span', { class: 'num' }, d ? cost(d.cost_usd) : '…'));
  }

  function listUrl() {
    const q = new URLSearchParams(filter);
    q.set('limit', String(PAGE));
    if (vs.cursor) q.set('cursor', vs.cursor);
    return '/observability/runs?' + q;
  }

  // Reads the first page again; it replaces the list when it arrives.
  function reloadFirstPage() {
    vs.replace = true;
    vs.cursor = null;
    vs.done = false;
    loadPage();
  }

  async function loadPage() {
    if (vs.loading || vs.done) return;
    vs.loading = true;
    more.disabled = true;
    try {
      const page = await api(listUrl());
      if (vs.disposed) return;
      if (vs.replace) {
        vs.replace = false;
        vs.runs = [];
        vs.byId.clear();
      }
      for (const r of page.runs) if (!vs.byId.has(r.id)) { vs.byId.set(r.id, r); vs.runs.push(r); }
      vs.cursor = page.next_cursor;
      vs.done = !page.next_cursor;
      clear(msg);
      if (!vs.runs.length) {
        msg.append(h('div', { class: 'empty' }, h('h2', null, Object.keys(filter).length ? 'No run matches these filters' : 'No runs yet'),
          h('p', { class: 'muted' }, 'Post events to ', h('code', null, 'POST /observability/events'), ' (or run the SDK example) and they appear here live.')));
      }
    } catch (e) {
      clear(msg).append(errorPanel(e, () => { vs.loading = false; loadPage(); }));
    } finally {
      vs.loading = false;
      more.disabled = vs.done;
      more.hidden = vs.done;
      foot.textContent = int(vs.runs.length) + ' runs shown' + (vs.done ? '' : ', more on demand');
      list.setCount(vs.runs.length);
    }
  }

  function matches(r) {
    if (filter.status && r.status !== filter.status) return false;
    if (filter.agent && r.agent !== filter.agent) return false;
    if (filter.tag && !(r.tags || []).includes(filter.tag)) return false;
    if (filter.since && ms(r.started_at) < ms(filter.since)) return false;
    if (filter.until && ms(r.started_at) > ms(filter.until)) return false;
    return true;
  }

  // One refetch per run per half second however many events it gets.
  const pendingRefresh = new Set();
  const flush = throttle(() => {
    const ids = [...pendingRefresh];
    pendingRefresh.clear();
    for (const id of ids) {
      api('/observability/runs/' + encodeURIComponent(id)).then((d) => {
        if (vs.disposed) return;
        vs.details.set(id, d);
        const known = vs.byId.get(id);
        if (known) {
          Object.assign(known, d);
          if (filter.status && d.status !== filter.status) { /* kept until the next load: a row does not jump away under the pointer */ }
        } else if (matches(d)) {
          vs.byId.set(id, d);
          vs.runs.unshift(d);
          if (list.selected >= 0) list.selected++;
          clear(msg);
        } else return;
        list.setCount(vs.runs.length);
        foot.textContent = int(vs.runs.length) + ' runs shown' + (vs.done ? '' : ', more on demand');
      }).catch(() => {});
    }
  }, 500);

  function onEvent(ev) {
    const known = vs.byId.get(ev.run_id);
    if (known) {
      known.last_event_at = ev.received_at;
      if (ev.type === 'run_finished') known.status = ev.payload.status;
      if (ev.type !== 'run_started' && ev.type !== 'run_finished') known.step_count = (known.step_count || 0) + 1;
      list.invalidate();
    } else if (ev.seq !== 1) {
      return;  // a run older than the list's first page: nothing on screen changes
    }
    // bounded: under a flood the rows catch up on the next events
    if (pendingRefresh.size < 50) pendingRefresh.add(ev.run_id);
    flush();
  }

  // Running rows' durations tick (their cells only: rows are not rebuilt).
  const ticker = setInterval(() => {
    for (const cell of list.el.querySelectorAll('.dur[data-since]')) cell.textContent = duration(Date.now() - ms(cell.dataset.since));
  }, 1000);

  function onKey(e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') { e.preventDefault(); agent.focus(); }
  }
  document.addEventListener('keydown', onKey);

  follow({
    onEvent,
    // After a dropped connection events may have been missed before the first
    // id was known: read the first page again.
    // The rows shown stay until the new first page replaces them (clearing
    // first flashed an empty list on every reconnect and key change).
    onResume: () => reloadFirstPage(),
    onRewound: () => { vs.details.clear(); reloadFirstPage(); },
  });
  loadPage();
  requestAnimationFrame(() => list.el.focus());
  return {
    dispose() {
      vs.disposed = true;
      stop();
      clearInterval(ticker);
      document.removeEventListener('keydown', onKey);
    },
  };
}
