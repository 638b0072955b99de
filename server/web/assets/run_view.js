// run_view.js: one run. Its header (name, agent, status, tags, metadata,
// totals), its steps as a tree (virtualised) beside the selected step's
// detail, as a timeline with a lane per node, and its artifacts. Steps are
// read page by page (GET .../steps?after_seq=&limit=); the first page is
// drawn as soon as it arrives, the rest follow, and then the stream follows
// the run from the last offset held (no gap, no duplicate).
import { h, clear, timeEl, duration, int, cost, badge, throttle, typing, toast } from './util.js';
import { api, errorPanel } from './api.js';
import { follow, stop } from './stream.js';
import { StepModel, isError, summary } from './step_model.js';
import { VList } from './vlist.js';
import { Timeline } from './timeline.js';
import { stepDetail } from './step_detail.js';
import { artifactsPanel } from './artifacts.js';

const PAGE = 1000;
const TABS = ['tree', 'timeline', 'artifacts'];

export const runViewState = { current: null };  // for tests: the mounted view's model and timings

function runUrl(id) { return '/observability/runs/' + encodeURIComponent(id); }

function header(run) {
  const totals = [
    ['Steps', int(run.step_count)], ['Errors', int(run.error_count)], ['Tokens in', int(run.input_tokens)],
    ['Tokens out', int(run.output_tokens)], ['Cost', cost(run.cost_usd)],
    ['Duration', run.duration_ms != null ? duration(run.duration_ms) : run.status === 'running' ? 'running' : '—'],
    ['Started', timeEl(run.started_at)], [run.ended_at ? 'Ended' : 'Last event', timeEl(run.ended_at || run.last_event_at)],
  ];
  const meta = Object.entries(run.metadata || {});
  return h('div', { class: 'run-head' },
    h('div', { class: 'run-title' },
      h('a', { href: '#/runs', class: 'back', title: 'Back to the runs (Esc)' }, '←'),
      h('h1', null, run.name || run.id), badge(run.status),
      run.agent ? h('span', { class: 'agent' }, run.agent) : null,
      (run.tags || []).map((t) => h('a', { class: 'tag', href: '#/runs?tag=' + encodeURIComponent(t) }, t))),
    h('div', { class: 'run-sub muted small' }, h('code', null, run.id),
      run.parent_run_id ? [' · parent ', h('a', { href: '#/run/' + encodeURIComponent(run.parent_run_id) }, run.parent_run_id)] : null),
    h('dl', { class: 'totals', dataset: { errors: String(run.error_count ?? 0) } },
      totals.map(([k, v]) => h('div', { class: 'total' + (k === 'Errors' && run.error_count ? ' bad' : '') }, h('dt', null, k), h('dd', null, v)))),
    meta.length ? h('div', { class: 'metadata' }, meta.map(([k, v]) => h('span', { class: 'meta' }, h('b', null, k), ' ', v))) : null);
}

export function mountRunView(root, runId, query, reload) {
  const t0 = performance.now();
  const model = new StepModel();
  const vs = { runId, model, metrics: {}, disposed: false, loadedAll: false };
  runViewState.current = vs;
  let run = null;
  let tab = TABS.includes(query.get('tab')) ? query.get('tab') : 'tree';
  const wantSeq = query.get('step') ? Number(query.get('step')) : null;
  let follow_ = wantSeq == null;
  let selectedSeq = null;

  const headBox = h('div', { class: 'run-head-box' }, h('p', { class: 'loading' }, 'Loading run…'));
  const tabButtons = TABS.map((t) => h('button', {
    class: 'tab', type: 'button', role: 'tab', id: 'tab-' + t, 'aria-controls': 'pane-' + t, onclick: () => setTab(t),
  }, t[0].toUpperCase() + t.slice(1)));
  const errBtn = h('button', { class: 'btn danger', type: 'button', disabled: true, title: 'Jump to the first error (e)', onclick: () => gotoError(0) }, 'No errors');
  const followBox = h('input', { type: 'checkbox', id: 'follow' });
  const counter = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const toolbar = h('div', { class: 'toolbar' }, h('div', { class: 'tabs', role: 'tablist' }, tabButtons),
    h('span', { class: 'spacer' }), counter, errBtn,
    h('label', { class: 'follow', title: 'Scroll to each new step (f)' }, followBox, ' Follow live'));
  const detailBox = h('aside', { class: 'detail-box', 'aria-label': 'Step detail' });
  // Until a step is chosen the panel shows the run's events by type.
  function overview() {
    if (selectedSeq != null) return;
    const counts = Object.entries(run?.step_counts || {}).sort((x, y) => y[1] - x[1]);
    clear(detailBox).append(h('div', { class: 'overview' },
      h('h3', null, 'Events by type'),
      counts.length ? h('dl', { class: 'facts' }, counts.map(([k, v]) => [h('dt', null, badge(k.replace('_', ' '), 't-' + k)), h('dd', { class: 'num-left' }, int(v))])) : null,
      h('p', { class: 'muted' }, 'Select a step (click it, or ↑ ↓ and Enter) to see it in full; ', h('kbd', null, 'e'), ' jumps to the first error.')));
  }

  const list = new VList({
    rowHeight: 30, role: 'tree', label: 'Steps of the run',
    render: (i, el) => renderRow(i, el),
    onSelect: (i) => { const r = model.tree()[i]; if (r) showStep(r.ev, false); },
    onActivate: (i) => { const r = model.tree()[i]; if (r) { setFollow(false); showStep(r.ev, false); } },
    onCollapse: (i) => toggle(i, false), onExpand: (i) => toggle(i, true),
    onScrollUp: () => { if (!programmatic) setFollow(false); },
  });
  let programmatic = false;
  const timeline = new Timeline(model, (ev) => pick(ev));
  vs.timeline = timeline;
  const arts = artifactsPanel(runId, (n) => { tabButtons[2].textContent = 'Artifacts (' + n + ')'; });
  const panes = {
    tree: h('div', { class: 'pane split', id: 'pane-tree', role: 'tabpanel' }, h('div', { class: 'tree-box' }, list.el), detailBox),
    timeline: h('div', { class: 'pane', id: 'pane-timeline', role: 'tabpanel' }, timeline.el),
    artifacts: h('div', { class: 'pane', id: 'pane-artifacts', role: 'tabpanel' }, arts.el),
  };
  clear(root).append(h('section', { class: 'run-view' }, headBox, toolbar, ...Object.values(panes)));

  function renderRow(i, el) {
    const r = model.tree()[i];
    if (!r) return;
    const ev = r.ev;
    const bad = isError(ev) || (ev.type === 'tool_call' && model.resultOf(ev)?.payload.is_error === true);
    el.className = 'vl-row step' + (isError(ev) ? ' err' : bad ? ' err-soft' : '');
    el.dataset.seq = ev.seq;
    el.setAttribute('aria-level', String(r.depth + 1));
    if (r.kids) el.setAttribute('aria-expanded', model.collapsed.has(ev.seq) ? 'false' : 'true');
    const caret = r.kids ? h('span', { class: 'caret', 'aria-hidden': 'true' }, model.collapsed.has(ev.seq) ? '▸' : '▾') : h('span', { class: 'caret' });
    const name = h('span', { class: 'sum' }, caret, badge(ev.type.replace('_', ' '), 't-' + ev.type), ' ', summary(ev, model));
    name.style.paddingLeft = r.depth * 18 + 'px';
    el.append(h('span', { class: 'seq' }, ev.seq), h('span', { class: 'when' }, timeEl(ev.ts, true)),
      h('span', { class: 'node', title: ev.node || '' }, ev.node || ''), name);
    el.addEventListener('click', (e) => { if (e.target.closest('.caret') && r.kids) toggle(i, model.collapsed.has(ev.seq)); });
  }

  function toggle(i, open) {
    const r = model.tree()[i];
    if (r && r.kids && model.toggle(r.ev.seq, open)) refresh();
  }

  function setTab(t) {
    tab = t;
    for (const [k, el] of Object.entries(panes)) el.hidden = k !== t;
    tabButtons.forEach((b, i) => b.setAttribute('aria-selected', TABS[i] === t ? 'true' : 'false'));
    if (t === 'timeline') timeline.update();
    if (t === 'tree') list.schedule();
    setHash();
  }

  function setFollow(on) {
    follow_ = on;
    followBox.checked = on;
    if (on) { programmatic = true; list.scrollToEnd(); requestAnimationFrame(() => { programmatic = false; }); }
  }
  followBox.addEventListener('change', () => setFollow(followBox.checked));

  function setHash() {
    const q = new URLSearchParams();
    if (tab !== 'tree') q.set('tab', tab);
    if (selectedSeq != null) q.set('step', String(selectedSeq));
    const s = '#/run/' + encodeURIComponent(runId) + (q.toString() ? '?' + q : '');
    if (location.hash !== s) history.replaceState(null, '', s);
  }

  function showStep(ev, select = true) {
    selectedSeq = ev.seq;
    timeline.selectedSeq = ev.seq;
    clear(detailBox).append(stepDetail(ev, model, pick));
    if (select) {
      model.reveal(ev);
      const idx = model.rowIndexOf(ev.seq);
      list.setCount(model.tree().length);
      if (idx >= 0) { list.selected = idx; list.scrollTo(idx); list.schedule(); }
    }
    setHash();
  }

  function pick(ev) {
    setFollow(false);
    if (tab !== 'tree') setTab('tree');
    showStep(ev, true);
    list.el.focus();
  }

  function gotoError(which) {
    const ev = model.errors[which];
    if (ev) pick(ev);
  }

  function refreshNow() {
    const rows = model.tree();
    list.setCount(rows.length);
    if (follow_) { programmatic = true; list.scrollToEnd(); requestAnimationFrame(() => { programmatic = false; }); }
    if (tab === 'timeline') timeline.update();
    const n = model.errors.length;
    errBtn.disabled = n === 0;
    errBtn.textContent = n === 0 ? 'No errors' : 'First error (#' + model.errors[0].seq + ')' + (n > 1 ? ' · ' + n + ' errors' : '');
    counter.textContent = int(model.steps.length) + ' events' + (vs.loadedAll ? '' : ' (loading…)');
  }
  const refresh = throttle(refreshNow, 50);

  const refetchRun = throttle(async () => {
    if (vs.disposed) return;
    try { run = await api(runUrl(runId)); clear(headBox).append(header(run)); overview(); } catch { /* keep the last header */ }
  }, 300);

  function onEvent(ev) {
    if (ev.run_id !== runId || vs.disposed) return;
    if (model.add(ev)) {
      vs.metrics.lastLiveAt = performance.now();
      refresh();
      refetchRun();
      if (ev.type === 'artifact') arts.reload();
    }
  }

  async function load() {
    try {
      run = await api(runUrl(runId));
    } catch (e) {
      clear(root).append(errorPanel(e, reload));
      return;
    }
    if (vs.disposed) return;
    clear(headBox).append(header(run));
    overview();
    setFollow(follow_ && run.status === 'running');
    let after = 0;
    let first = true;
    for (;;) {
      let page;
      try {
        page = await api(runUrl(runId) + '/steps?after_seq=' + after + '&limit=' + PAGE);
      } catch (e) {
        clear(detailBox).append(errorPanel(e, reload));
        return;
      }
      if (vs.disposed) return;
      for (const ev of page.steps) model.add(ev);
      if (first) {
        first = false;
        refreshNow();
        list.draw();
        vs.metrics.first_rows_ms = performance.now() - t0;
        // after the browser has painted the first screen
        requestAnimationFrame(() => setTimeout(() => {
          vs.metrics.first_screen_ms = performance.now() - t0;
          vs.metrics.first_screen_since_navigation_ms = performance.now();
        }, 0));
        if (wantSeq != null && model.bySeq.has(wantSeq)) showStep(model.bySeq.get(wantSeq), true);
      } else refresh();
      if (page.next_after_seq == null) break;
      after = page.next_after_seq;
    }
    vs.loadedAll = true;
    vs.metrics.all_loaded_ms = performance.now() - t0;
    refresh();
    if (wantSeq != null && selectedSeq == null && model.bySeq.has(wantSeq)) showStep(model.bySeq.get(wantSeq), true);
    follow({
      runIds: [runId], after: model.lastOffset ?? 0, onEvent,
      onResume: () => refetchRun(),
      onRewound: () => { toast('The server\'s log was restored to an earlier point: the run is reloaded.'); reload(); },
    });
  }

  function onKey(e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'e') { e.preventDefault(); gotoError(0); }
    else if (e.key === 'n') {
      const i = model.errors.findIndex((x) => x.seq > (selectedSeq ?? 0));
      if (i >= 0) { e.preventDefault(); gotoError(i); }
    } else if (e.key === 't') { e.preventDefault(); setTab(TABS[(TABS.indexOf(tab) + 1) % TABS.length]); }
    else if (e.key === 'f') { e.preventDefault(); setFollow(!follow_); }
  }
  document.addEventListener('keydown', onKey);

  setTab(tab);
  load();
  requestAnimationFrame(() => list.el.focus());
  return {
    dispose() {
      vs.disposed = true;
      stop();
      arts.dispose();
      document.removeEventListener('keydown', onKey);
    },
  };
}
