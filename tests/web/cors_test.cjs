// CORS in a real browser (issue 14, items 2 and 3): a page served from
// another origin (a plain node server on another port) reads
// /observability/runs with a Bearer key and follows the stream with
// EventSource and ?access_token=, against the real binary started with
// --cors-origin. EventSource's onmessage must get every event, an agent's
// `error` step must not fire onerror, and a page from an origin that is not
// configured must be refused by the browser. Run by ctest in Chromium
// (web_cors) and in Firefox (web_firefox_cors):
//   node tests/web/cors_test.cjs --server PATH [--browser chromium|firefox]
'use strict';
const http = require('http');
const h = require('./harness.cjs');

const readKey = 'read-key-for-cors-0001';
const ingestKey = 'ingest-key-for-cors-01';

// A page with nothing in it, served by an origin of its own.
function startOrigin() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>agent dashboard elsewhere</title><p>cross-origin page</p>');
    });
    server.listen(0, '127.0.0.1', () => {
      h.onCleanup(() => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }));
      resolve('http://127.0.0.1:' + server.address().port);
    });
  });
}

// In the page: fetch the runs with the key, then follow the stream until
// `want` events came (or 10 s passed); report what EventSource did.
async function readFromPage(page, api, want) {
  return page.evaluate(async (api, readKey, want) => {
    const out = { runs: null, status: 0, messages: [], errors: 0, fetchError: null };
    try {
      const res = await fetch(api + '/observability/runs', { headers: { Authorization: 'Bearer ' + readKey } });
      out.status = res.status;
      out.runs = (await res.json()).runs.map((r) => r.id);
    } catch (e) {
      out.fetchError = String(e);
      return out;
    }
    await new Promise((resolve) => {
      const es = new EventSource(api + '/observability/stream?last_event_id=0&access_token=' + readKey);
      const done = () => { es.close(); resolve(); };
      es.onmessage = (e) => {
        out.messages.push(JSON.parse(e.data).type);
        if (out.messages.length >= want) setTimeout(done, 300);  // any late onerror is seen too
      };
      es.onerror = () => { out.errors += 1; };
      setTimeout(done, 10000);
    });
    return out;
  }, api, readKey, want);
}

h.runTest('web_cors', async () => {
  const origin = await startOrigin();
  const server = await new h.ServerProcess({
    keys: ['read:' + readKey, 'ingest:' + ingestKey],
    extra: ['--cors-origin', origin],
  }).start();
  const events = [
    { run_id: 'x1', type: 'run_started', payload: { name: 'cors', agent: 'planner' } },
    { run_id: 'x1', type: 'thought', payload: { text: 'look it up' } },
    { run_id: 'x1', type: 'error', payload: { kind: 'ToolError', message: 'the tool failed' } },
    { run_id: 'x1', type: 'log', payload: { level: 'info', message: 'after the error' } },
  ];
  await h.call(server.url, 'POST', '/observability/events', { json: { events }, key: ingestKey });

  const browser = await h.launchBrowser();
  const page = await h.newPage(browser);
  await page.goto(origin + '/');
  const got = await readFromPage(page, server.url, events.length);
  h.assert(got.fetchError === null, 'the cross-origin fetch succeeded: ' + got.fetchError);
  h.assert(got.status === 200, 'GET /observability/runs answered 200 across origins: ' + got.status);
  h.assert(JSON.stringify(got.runs) === '["x1"]', 'the page read the run: ' + JSON.stringify(got.runs));
  h.assert(JSON.stringify(got.messages) === JSON.stringify(events.map((e) => e.type)),
    'onmessage got every event, the error step included: ' + JSON.stringify(got.messages));
  h.assert(got.errors === 0, 'EventSource fired no error for the agent\'s error step: ' + got.errors);

  // The preflight a browser sends for a write with a JSON body and a key.
  const pre = await fetch(server.url + '/observability/events', {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type' },
  });
  h.assert(pre.status === 204, 'preflight answered 204: ' + pre.status);
  h.assert(pre.headers.get('access-control-allow-origin') === origin, 'preflight allows the origin');
  const allowed = (pre.headers.get('access-control-allow-headers') || '').toLowerCase();
  for (const name of ['authorization', 'content-type', 'last-event-id', 'x-step-id'])
    h.assert(allowed.includes(name), 'preflight allows the header ' + name + ': ' + allowed);
  h.assert((pre.headers.get('vary') || '').includes('Origin'), 'Vary: Origin');
  // Errors carry the headers too, so the page can read why.
  const denied = await fetch(server.url + '/observability/runs', { headers: { Origin: origin } });
  h.assert(denied.status === 401 && denied.headers.get('access-control-allow-origin') === origin,
    'a 401 carries the CORS headers');

  // A page from an origin that is not configured is refused by the browser.
  const stranger = await startOrigin();
  const other = await h.newPage(browser);
  await other.goto(stranger + '/');
  const refused = await readFromPage(other, server.url, 1);
  h.assert(refused.fetchError !== null, h.opts.browser + ' refused the unconfigured origin');
}, { seconds: 90 });
