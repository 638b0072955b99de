// api.js: every request the page makes. Sends the API key kept in local
// storage as `Authorization: Bearer`; a 401 opens the key dialog and retries
// with the key given; any other failure becomes an ApiError carrying the
// server's {"error": {code, message, details}} body, which errorPanel() turns
// into a readable message (never a blank page).
import { h } from './util.js';

const KEY_STORAGE = 'obs.api_key';

export function getKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ''; } catch { return ''; }
}

export function setKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch { /* storage disabled: the key lives for this page only */ }
  document.dispatchEvent(new CustomEvent('obs:key'));
}

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || 'HTTP ' + status);
    this.status = status;
    this.code = err.code || (status === 0 ? 'network' : 'http_' + status);
    this.details = err.details || null;
  }
}

// One dialog at a time: concurrent 401s wait for the same answer.
let pendingAsk = null;

// Opens the key dialog; resolves true when the user gave a key, false on cancel.
export function askForKey(reason) {
  if (pendingAsk) return pendingAsk;
  const dlg = document.getElementById('key-dialog');
  const input = document.getElementById('key-input');
  document.getElementById('key-reason').textContent = reason || '';
  input.value = '';
  pendingAsk = new Promise((resolve) => {
    const done = (ok) => {
      dlg.removeEventListener('close', onClose);
      pendingAsk = null;
      resolve(ok);
    };
    const onClose = () => {
      const v = input.value.trim();
      if (dlg.returnValue === 'save' && v) { setKey(v); done(true); } else done(false);
    };
    dlg.addEventListener('close', onClose);
    dlg.returnValue = '';
    dlg.showModal();
    input.focus();
  });
  return pendingAsk;
}

export function wireKeyDialog() {
  const dlg = document.getElementById('key-dialog');
  document.getElementById('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    dlg.close('save');
  });
  document.getElementById('key-cancel').addEventListener('click', () => dlg.close('cancel'));
  document.getElementById('key-forget').addEventListener('click', () => { setKey(''); dlg.close('cancel'); });
}

// fetch() with the key, JSON in and out. opts: method, json (a body to send
// as JSON), raw (return the Response, for bytes), noPrompt (a 401 throws
// without opening the key dialog). Throws ApiError.
export async function api(path, opts = {}) {
  let asked = false;
  for (;;) {
    const headers = {};
    const key = getKey();
    if (key) headers.Authorization = 'Bearer ' + key;
    let body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    let res;
    try {
      res = await fetch(path, { method: opts.method || 'GET', headers, body, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, { error: { message: 'The server cannot be reached (' + e.message + ').' } });
    }
    if (res.status === 401 && !asked && !opts.noPrompt) {
      asked = true;
      const reason = key ? 'The server refused the key in use. Enter another one.'
        : 'This server needs an API key (scope read, or admin for backups).';
      if (await askForKey(reason)) continue;
    }
    if (!res.ok) {
      let parsed = null;
      try { parsed = await res.json(); } catch { /* not JSON: status alone */ }
      throw new ApiError(res.status, parsed);
    }
    if (opts.raw) return res;
    return res.status === 204 ? null : res.json();
  }
}

const TITLES = {
  0: 'The server cannot be reached',
  401: 'An API key is needed',
  403: 'This key is not allowed here',
  404: 'Not found',
  409: 'Conflict',
  503: 'Unavailable',
};

// A panel explaining `err`, with a way forward (enter a key, retry).
export function errorPanel(err, retry) {
  const status = err instanceof ApiError ? err.status : -1;
  let hint = null;
  if (status === 401) hint = 'Enter a key with the read scope (admin for backups).';
  if (status === 403) hint = 'The key in use lacks the scope this needs: reading runs needs read, backups need admin.';
  return h('div', { class: 'error-panel', role: 'alert' },
    h('h2', null, TITLES[status] || (status > 0 ? 'Error ' + status : 'Error')),
    h('p', null, err.message),
    err.code ? h('p', { class: 'muted small' }, 'code: ', h('code', null, err.code)) : null,
    err.details ? h('ul', { class: 'small' }, err.details.map((d) => h('li', null, (d.path ? d.path + ': ' : '') + (d.message || JSON.stringify(d))))) : null,
    hint ? h('p', { class: 'muted' }, hint) : null,
    h('div', { class: 'row' },
      status === 401 || status === 403
        ? h('button', { class: 'btn primary', type: 'button', onclick: async () => { if (await askForKey(hint)) retry?.(); } }, 'Enter a key')
        : null,
      retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, 'Retry') : null));
}
