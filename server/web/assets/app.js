// app.js: the page's entry point. Routes by the URL's hash, so every view
// can be shared as a link and the server only ever serves "/":
//   #/runs?status=&agent=&tag=&since=&until=   the runs (default)
//   #/run/<id>?tab=tree|timeline|artifacts&step=<seq>
//   #/backups
// Wires the header (live state, key button, shortcuts) and exposes
// window.__obs (stream counters, view state) for tests and curious users.
import { wireKeyDialog, askForKey, getKey } from './api.js';
import { streamStats, restart } from './stream.js';
import { mountRunsView, runsViewState } from './runs_view.js';
import { mountRunView, runViewState } from './run_view.js';
import { mountBackupsView } from './backups_view.js';
import { typing, clear } from './util.js';

const main = document.getElementById('main');
let view = null;

function parse() {
  const raw = location.hash.replace(/^#/, '') || '/runs';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const query = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query };
}

function navigate(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function route() {
  view?.dispose();
  view = null;
  clear(main);
  const { parts, query } = parse();
  document.getElementById('nav-runs').classList.toggle('active', parts[0] !== 'backups');
  document.getElementById('nav-backups').classList.toggle('active', parts[0] === 'backups');
  if (parts[0] === 'run' && parts[1]) {
    document.title = 'Run ' + parts[1] + ' · Observability';
    view = mountRunView(main, parts[1], query, route);
  } else if (parts[0] === 'backups') {
    document.title = 'Backups · Observability';
    view = mountBackupsView(main);
  } else {
    document.title = 'Runs · Observability';
    view = mountRunsView(main, query, navigate);
  }
}

function keyLabel() {
  const k = getKey();
  document.getElementById('key-button').textContent = k ? 'Key ••••' + k.slice(-4) : 'Key: none';
}

wireKeyDialog();
keyLabel();
document.addEventListener('obs:key', () => { keyLabel(); restart(); });
document.getElementById('key-button').addEventListener('click', async () => {
  if (await askForKey('The key this page sends to the server.')) route();
});
document.getElementById('help-button').addEventListener('click', () => document.getElementById('help-dialog').showModal());
document.addEventListener('keydown', (e) => {
  if (typing(e) || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
  if (e.key === '?') document.getElementById('help-dialog').showModal();
  else if (e.key === 'r') navigate('#/runs');
  else if (e.key === 'b') navigate('#/backups');
  else if (e.key === 'Escape' && parse().parts[0] !== 'runs') navigate('#/runs');
});
window.addEventListener('hashchange', route);
window.__obs = { stream: streamStats, runs: runsViewState, run: runViewState };
route();
