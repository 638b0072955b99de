// artifacts.js: a run's artifacts (GET .../artifacts): each with a download
// and, for text, JSON and images, a preview. The bytes are fetched with the
// key (a plain link cannot send Authorization) and handed to the browser as
// a blob URL.
import { h, clear, bytes, timeEl } from './util.js';
import { api, errorPanel } from './api.js';
import { jsonView } from './json_view.js';

const PREVIEW_LIMIT = 2 * 1048576;

function artifactUrl(runId, name) {
  return '/observability/runs/' + encodeURIComponent(runId) + '/artifacts/' + encodeURIComponent(name);
}

function kind(type) {
  const t = (type || '').toLowerCase();
  if (t.startsWith('image/')) return 'image';
  if (t.includes('json')) return 'json';
  if (t.startsWith('text/') || t.includes('xml') || t.includes('yaml') || t.includes('javascript')) return 'text';
  return null;
}

async function blobOf(runId, a) {
  const res = await api(artifactUrl(runId, a.name), { raw: true });
  return res.blob();
}

export function artifactsPanel(runId, onCount) {
  const list = h('div', { class: 'artifacts' }, h('p', { class: 'muted' }, 'Loading artifacts…'));
  const preview = h('div', { class: 'artifact-preview' });
  const el = h('div', { class: 'artifacts-pane' }, list, preview);
  const urls = [];

  async function show(a) {
    clear(preview).append(h('h3', null, a.name), h('p', { class: 'muted' }, 'Loading…'));
    try {
      if (a.size > PREVIEW_LIMIT) throw new Error('Too large to preview (' + bytes(a.size) + '); download it instead.');
      const blob = await blobOf(runId, a);
      const body = [];
      const k = kind(a.content_type);
      if (k === 'image') {
        const u = URL.createObjectURL(blob);
        urls.push(u);
        body.push(h('img', { src: u, alt: a.name, class: 'artifact-img' }));
      } else {
        const text = await blob.text();
        let parsed;
        if (k === 'json') { try { parsed = JSON.parse(text); } catch { parsed = undefined; } }
        body.push(parsed !== undefined ? jsonView(parsed, 2) : h('pre', { class: 'text' }, text));
      }
      clear(preview).append(h('h3', null, a.name), ...body);
    } catch (e) {
      clear(preview).append(h('h3', null, a.name), e.status ? errorPanel(e) : h('p', { class: 'muted' }, e.message));
    }
  }

  async function download(a, btn) {
    btn.disabled = true;
    try {
      const u = URL.createObjectURL(await blobOf(runId, a));
      const link = h('a', { href: u, download: a.name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(u), 60000);
    } catch (e) {
      clear(preview).append(errorPanel(e));
    } finally { btn.disabled = false; }
  }

  async function load() {
    try {
      const { artifacts } = await api('/observability/runs/' + encodeURIComponent(runId) + '/artifacts');
      onCount?.(artifacts.length);
      clear(list);
      if (!artifacts.length) { list.append(h('p', { class: 'muted' }, 'This run has no artifacts.')); return; }
      list.append(h('table', { class: 'table' },
        h('thead', null, h('tr', null, ['Name', 'Type', 'Size', 'Created', 'Step', ''].map((t) => h('th', null, t)))),
        h('tbody', null, artifacts.map((a) => {
          const dl = h('button', { class: 'btn tiny', type: 'button' }, 'download');
          dl.addEventListener('click', () => download(a, dl));
          return h('tr', null,
            h('td', null, h('code', null, a.name)), h('td', null, a.content_type), h('td', { class: 'num' }, bytes(a.size)),
            h('td', null, timeEl(a.created_at)), h('td', null, a.step_id ? h('code', { class: 'small' }, a.step_id) : '—'),
            h('td', { class: 'actions' },
              kind(a.content_type) ? h('button', { class: 'btn tiny', type: 'button', onclick: () => show(a) }, 'preview') : null, dl));
        }))));
    } catch (e) {
      clear(list).append(errorPanel(e, load));
    }
  }

  load();
  return { el, reload: load, dispose: () => urls.forEach((u) => URL.revokeObjectURL(u)) };
}
