// backups_view.js: the backup history (GET /observability/backups, admin
// key) and a button that runs a backup now (POST /observability/backup),
// showing what it answered: the result, or the error body (409 while one
// runs, 503 when S3 is not configured or unreachable).
import { h, clear, timeEl, duration, bytes, int, badge } from './util.js';
import { api, errorPanel } from './api.js';
import { jsonView } from './json_view.js';
import { stop } from './stream.js';

export function mountBackupsView(root) {
  let disposed = false;
  const local = h('input', { type: 'checkbox', id: 'b-local' });
  const run = h('button', { class: 'btn primary', type: 'button', id: 'b-run' }, 'Back up now');
  const result = h('div', { class: 'backup-result', 'aria-live': 'polite' });
  const history = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  clear(root).append(h('section', { class: 'backups-view' },
    h('div', { class: 'view-head' }, h('h1', null, 'Backups'),
      h('div', { class: 'row' }, run, h('label', { title: 'POST /observability/backup?upload=false' }, local, ' keep it local (no S3 upload)'))),
    result, h('h2', null, 'History'), history));
  stop();

  run.addEventListener('click', async () => {
    run.disabled = true;
    const started = performance.now();
    clear(result).append(h('p', { class: 'loading' }, 'Backing up…'));
    try {
      const r = await api('/observability/backup' + (local.checked ? '?upload=false' : ''), { method: 'POST' });
      if (disposed) return;
      clear(result).append(h('div', { class: 'ok-panel' },
        h('h2', null, 'Backup done in ' + duration(performance.now() - started)),
        h('p', null, h('code', null, r.location)), jsonView(r, 1)));
    } catch (e) {
      if (disposed) return;
      clear(result).append(errorPanel(e));
    } finally {
      run.disabled = false;
      load();
    }
  });

  async function load() {
    try {
      const { backups } = await api('/observability/backups');
      if (disposed) return;
      clear(history);
      if (!backups.length) { history.append(h('p', { class: 'muted' }, 'No backup yet.')); return; }
      history.append(h('table', { class: 'table' },
        h('thead', null, h('tr', null, ['#', 'Status', 'Started', 'Took', 'Location', 'Size', 'Events', 'Error'].map((t) => h('th', null, t)))),
        h('tbody', null, backups.map((b) => h('tr', { class: b.status === 'failed' ? 'bad-row' : '' },
          h('td', { class: 'num' }, String(b.id)), h('td', null, badge(b.status || '?')), h('td', null, timeEl(b.started_at)),
          h('td', { class: 'num' }, duration(b.duration_ms)), h('td', null, b.location ? h('code', { class: 'small' }, b.location) : '—'),
          h('td', { class: 'num' }, bytes(b.bytes)), h('td', { class: 'num' }, int(b.events)),
          h('td', { class: 'bad' }, b.error || ''))))));
    } catch (e) {
      if (!disposed) clear(history).append(errorPanel(e, load));
    }
  }
  load();
  return { dispose() { disposed = true; } };
}
