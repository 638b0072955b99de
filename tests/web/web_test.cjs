// web_test.cjs: the page of issue 16 end to end: the real binary, real
// HTTP, headless Chromium or Firefox (--browser, see harness.cjs). One case
// per run (--case NAME), so CTest runs them as separate tests:
//   serving         GET / and /ui/NAME: the files' bytes, types, ETag/304, gzip
//   runs_view       runs posted through the API are listed newest first with
//                   their totals, filters land in the URL, paging by cursor,
//                   a new run appears live
//   live_step       a step posted while the run view is open appears < 1 s
//   tree            the tree pairs a tool call with its result (and nests by
//                   parent_id); the timeline has a lane per node; LLM facts
//   error_step      an `error` step is highlighted, is one click away, and
//                   does not disturb the stream (no reconnect)
//   restart         the server restarts (SIGTERM, same port and db): the page
//                   resumes with no gap and no duplicate
//   rewound         the database goes back to an earlier copy under an open
//                   page: the server says `rewound` and the page reloads
//   overflow        a listener that falls behind gets `overflow` and resumes
//                   from it with nothing lost
//   keys            with keys the page asks for one, then works (stream
//                   included); a wrong key and a 403 give clear messages
//   large_run       a 10,000-step run's first screen (figure printed)
//   artifacts       artifacts listed, JSON/text/image previewed, downloadable
//   backups         the history and the backup button (result and error body)
'use strict';
const h = require('./harness.cjs');
const { assert, call, sleep } = h;

const CASE = process.argv[process.argv.indexOf('--case') + 1];

async function run(base, body, key) { return (await call(base, 'POST', '/observability/runs', { json: body, key })).body; }
async function steps(base, runId, list, key) {
  return (await call(base, 'POST', `/observability/runs/${encodeURIComponent(runId)}/steps`, { json: { steps: list }, key })).body;
}
async function finish(base, runId, status, key) {
  return call(base, 'POST', `/observability/runs/${encodeURIComponent(runId)}/finish`, { json: { status }, key });
}

// The tree rows in the DOM, in display order.
function treeSeqs(page) {
  return page.$$eval('.vl-row.step', (els) => els.map((e) => ({ i: +e.dataset.index, seq: +e.dataset.seq }))
    .sort((a, b) => a.i - b.i).map((x) => x.seq));
}

async function openRun(page, base, id, extra = '') {
  await page.goto(`${base}/#/run/${encodeURIComponent(id)}${extra}`);
  await page.waitForFunction(() => window.__obs?.stream.status === 'live', { timeout: 15000 });
}

async function setup(serverOpts) {
  const server = await new h.ServerProcess(serverOpts).start();
  const browser = await h.launchBrowser();
  const page = await h.newPage(browser);
  return { server, api: server.url, base: await h.pageBase(server), browser, page };
}

// GET with raw headers and the raw (undecoded) body.
function rawGet(url, headers = {}) {
  const http = require('http');
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

const cases = {
  async serving() {
    // The binary serves the files of server/web/assets as they are on disk:
    // "/" is index.html, the rest under /ui/, with a strong ETag (304 on
    // If-None-Match), gzip when asked, no auth even when keys are set.
    const fs = require('fs');
    const path = require('path');
    const zlib = require('zlib');
    const crypto = require('crypto');
    const server = await new h.ServerProcess({ keys: ['read:reader-key-0123456789'] }).start();
    const base = await h.pageBase(server);
    const dir = path.join(__dirname, '../../server/web/assets');
    const files = fs.readdirSync(dir);
    for (const name of files) {
      const disk = fs.readFileSync(path.join(dir, name));
      const url = base + '/ui/' + name;
      const plain = await rawGet(url);
      assert(plain.status === 200 && plain.body.equals(disk), `${name}: 200 with the file's bytes (${plain.status})`);
      const type = { html: 'text/html', js: 'text/javascript', css: 'text/css' }[name.split('.').pop()];
      assert((plain.headers['content-type'] || '').startsWith(type), `${name}: Content-Type ${plain.headers['content-type']}`);
      if (h.opts.dev) continue;  // the dev server serves files, not the embedded copy
      const etag = '"' + crypto.createHash('sha256').update(disk).digest('hex') + '"';
      assert(plain.headers.etag === etag, `${name}: ETag is the SHA-256 (${plain.headers.etag})`);
      assert(!plain.headers['content-encoding'], `${name}: no encoding unasked`);
      const gz = await rawGet(url, { 'Accept-Encoding': 'gzip, deflate' });
      assert(gz.headers['content-encoding'] === 'gzip' && zlib.gunzipSync(gz.body).equals(disk), `${name}: gzip inflates to the file`);
      const again = await rawGet(url, { 'If-None-Match': etag });
      assert(again.status === 304 && again.body.length === 0 && again.headers.etag === etag, `${name}: 304 on a matching If-None-Match (${again.status})`);
    }
    const root = await rawGet(base + '/');
    assert(root.status === 200 && root.body.equals(fs.readFileSync(path.join(dir, 'index.html'))), '/ is index.html');
    const missing = await rawGet(base + '/ui/nope.js');
    assert(missing.status === 404 && JSON.parse(missing.body).error.code === 'not_found', '/ui/nope.js: 404 with the error body');
    // every module the page imports is served (no file missing from the embed)
    const imports = new Set(['app.js']);
    for (const name of files.filter((f) => f.endsWith('.js'))) {
      for (const m of fs.readFileSync(path.join(dir, name), 'utf8').matchAll(/from '\.\/([a-z_]+\.js)'/g)) imports.add(m[1]);
    }
    for (const name of imports) assert(files.includes(name), `imported module ${name} exists`);
    // index.html preloads every module (one round trip instead of one per import level)
    const index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
    for (const name of files.filter((f) => f.endsWith('.js'))) assert(index.includes(`"/ui/${name}"`), `index.html loads ${name}`);
  },

  async runs_view() {
    const { api, base, page } = await setup();
    const a = await run(api, { id: 'run-alpha', name: 'Research gear ratios', agent: 'researcher', tags: ['prod', 'gears'], metadata: { user: 'ana' } });
    await steps(api, a.id, [
      { type: 'llm_call', node: 'controller', payload: { model: 'gpt-4o', input_tokens: 1200, output_tokens: 300, cost_usd: 0.0123, latency_ms: 850 } },
      { type: 'thought', payload: { text: 'look it up' } }]);
    await finish(api, a.id, 'succeeded');
    const b = await run(api, { id: 'run-beta', name: 'Summarise tickets', agent: 'summariser', tags: ['staging'] });
    await steps(api, b.id, [{ type: 'error', payload: { kind: 'timeout', message: 'tool took too long' } }]);
    await finish(api, b.id, 'failed');
    await run(api, { id: 'run-gamma', name: 'Plan the week', agent: 'planner', tags: ['prod'] });
    const listed = (await call(api, 'GET', '/observability/runs')).body.runs.map((r) => r.id);

    await page.goto(base + '/');
    await page.waitForFunction(() => document.querySelectorAll('.run-row').length === 3, { timeout: 10000 });
    const shown = await page.$$eval('.run-row', (els) => els.sort((x, y) => x.dataset.index - y.dataset.index).map((e) => e.dataset.runId));
    assert(JSON.stringify(shown) === JSON.stringify(listed), `rows ${shown} in the API's order ${listed}`);
    assert(listed[0] === 'run-gamma', 'newest first');
    // totals read per run: alpha's tokens and cost
    await page.waitForFunction(() => {
      const r = document.querySelector('.run-row[data-run-id="run-alpha"]');
      return r && r.textContent.includes('1,500') && r.textContent.includes('$0.012');
    }, { timeout: 10000 });
    const betaErr = await page.$eval('.run-row[data-run-id="run-beta"]', (e) => e.classList.contains('has-errors'));
    assert(betaErr, 'a run with errors is marked');
    // live: a new run appears at the top, a step updates a running run's count
    await run(api, { id: 'run-delta', name: 'Live arrival', agent: 'planner' });
    await page.waitForFunction(() => document.querySelector('.run-row[data-index="0"]')?.dataset.runId === 'run-delta', { timeout: 5000 });
    await steps(api, 'run-gamma', [{ type: 'thought', payload: { text: 'a' } }, { type: 'thought', payload: { text: 'b' } }]);
    await page.waitForFunction(() => {
      const r = document.querySelector('.run-row[data-run-id="run-gamma"]');
      return r && r.children[6].textContent === '2';
    }, { timeout: 5000 });
    await h.screenshot(page, 'runs');
    // a filter through the form lands in the URL and filters on the server
    await page.type('#f-agent', 'planner');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.includes('agent=planner') && document.querySelectorAll('.run-row').length === 2, { timeout: 5000 });
    // the URL alone (shared) gives the same view
    await page.goto(base + '/#/runs?status=failed');
    await page.waitForFunction(() => document.querySelectorAll('.run-row').length === 1 && document.querySelector('.run-row').dataset.runId === 'run-beta', { timeout: 5000 });
    assert(await page.$eval('#f-status', (e) => e.value) === 'failed', 'the status select shows the URL filter');
    // the time range: since a minute from now matches nothing; since an hour ago, everything
    const later = new Date(Date.now() + 60000).toISOString();
    await page.goto(base + '/#/runs?since=' + encodeURIComponent(later));
    await page.waitForFunction(() => document.querySelector('.empty')?.textContent.includes('No run matches'), { timeout: 5000 });
    const shownSince = await page.$eval('#f-since', (e) => e.value);
    const wantLocal = await page.evaluate((iso) => { const d = new Date(iso); return new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); }, later);
    assert(shownSince === wantLocal, `the since field shows the URL's time in local time (${shownSince} vs ${wantLocal})`);
    await page.goto(base + '/#/runs?since=' + encodeURIComponent(new Date(Date.now() - 3600000).toISOString()));
    await page.waitForFunction(() => document.querySelectorAll('.run-row').length === 4, { timeout: 5000 });
    // an unknown run: a clear message, not a blank page
    await page.goto(base + '/#/run/no-such-run');
    await page.waitForFunction(() => document.querySelector('.error-panel')?.textContent.includes('Not found'), { timeout: 5000 });
    // cursor paging: 60 more runs, 50 a page
    const events = [];
    for (let i = 0; i < 60; i++) events.push({ run_id: `bulk-${String(i).padStart(3, '0')}`, type: 'run_started', payload: { name: `bulk ${i}`, agent: 'bulk' } });
    await call(api, 'POST', '/observability/events', { json: { events } });
    await page.goto(base + '/#/runs?agent=bulk');
    await page.waitForFunction(() => window.__obs.runs.current.runs.length === 50 && !window.__obs.runs.current.loading, { timeout: 10000 });
    const domRows = await page.$$eval('.run-row', (els) => els.length);
    assert(domRows < 50, `only the visible rows are in the DOM (${domRows})`);
    await page.click('.runs-view .row .btn');
    await page.waitForFunction(() => window.__obs.runs.current.runs.length === 60 && window.__obs.runs.current.done, { timeout: 10000 });
    const ids = await page.evaluate(() => window.__obs.runs.current.runs.map((r) => r.id));
    assert(new Set(ids).size === 60, 'no run twice across pages');
    // keyboard: arrow down + Enter opens the selected run
    await page.focus('.vlist');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash.startsWith('#/run/bulk-'), { timeout: 5000 });
    assert(page.pageErrors.length === 0, 'no page errors: ' + page.pageErrors.join('; '));
  },

  async live_step() {
    const { api, base, page } = await setup();
    const r = await run(api, { id: 'live-1', name: 'Triage the inbox', agent: 'triager', tags: ['live', 'demo'], metadata: { mailbox: 'support' } });
    await steps(api, r.id, [{ type: 'thought', node: 'controller', payload: { text: 'Read the newest mails first, then label them.' } }]);
    await openRun(page, base, r.id);
    await page.waitForFunction(() => document.querySelectorAll('.vl-row.step').length === 2, { timeout: 5000 });
    // what an agent at work sends, one step at a time
    const live = [
      { type: 'llm_call', node: 'controller', payload: { model: 'gpt-4o-mini', provider: 'openai', input_tokens: 1830, output_tokens: 210, cost_usd: 0.0004, latency_ms: 930 } },
      { type: 'tool_call', node: 'worker-1', payload: { tool: 'list_mail', call_id: 'm1', arguments: { folder: 'inbox', limit: 20 } } },
      { type: 'tool_result', node: 'worker-1', payload: { call_id: 'm1', output: { count: 20 }, duration_ms: 412 } },
      { type: 'tool_call', node: 'worker-2', payload: { tool: 'label', call_id: 'm2', arguments: { ids: [3, 7, 9], label: 'billing' } } },
      { type: 'thought', node: 'controller', payload: { text: 'Three billing mails; waiting for the labels before replying.' } },
    ];
    const figures = [];
    for (const step of live) {
      const t0 = Date.now();
      const res = await steps(api, r.id, [step]);
      const seq = res.events[0].seq;
      await page.waitForSelector(`.vl-row.step[data-seq="${seq}"]`, { timeout: 5000 });
      figures.push(Date.now() - t0);
    }
    console.log('post-to-row latency (ms): ' + figures.join(', '));
    assert(Math.max(...figures) < 1000, 'every step appears within 1 s of its POST returning');
    assert(JSON.stringify(await treeSeqs(page)) === JSON.stringify([1, 2, 3, 4, 5, 6, 7]), 'all steps, in order, once');
    const pending = await page.$eval('.vl-row.step[data-seq="6"]', (e) => e.textContent);
    assert(pending.includes('label(') && pending.includes('pending'), 'a call without its result yet says pending: ' + pending);
    await sleep(400);  // the header's totals catch up
    await h.screenshot(page, 'run-live');
  },

  async tree() {
    const { api, base, page } = await setup();
    // agent-side times (ts) for the whole run, so the timeline is the agent's
    const t = Date.now() - 5000;
    const ts = (k) => new Date(t + k).toISOString();
    const r = { id: 'tree-1' };
    await call(api, 'POST', '/observability/events', { json: { events: [{ run_id: r.id, type: 'run_started', node: 'controller', ts: ts(-100),
      payload: { name: 'Answer a question', agent: 'controller', tags: ['demo'], metadata: { user: 'ana', ticket: 'T-42' } } }] } });
    await steps(api, r.id, [
      { id: 's-plan', type: 'thought', node: 'controller', ts: ts(0), payload: { text: 'Plan: search, then read, then answer.' } },
      { id: 's-llm', type: 'llm_call', node: 'controller', ts: ts(100), parent_id: 's-plan', payload: { model: 'claude-3-5-sonnet', provider: 'anthropic', input_tokens: 2048, output_tokens: 512, cost_usd: 0.0138, latency_ms: 1450 } },
      { id: 's-call', type: 'tool_call', node: 'worker-1', ts: ts(1700), payload: { tool: 'search', call_id: 'c1', arguments: { q: 'gear ratio of a bicycle' } } },
      { id: 's-call2', type: 'tool_call', node: 'worker-2', ts: ts(1750), payload: { tool: 'fetch_page', call_id: 'c2', arguments: { url: 'https://example.org' } } },
      { type: 'log', node: 'worker-1', ts: ts(1800), payload: { level: 'info', message: 'querying the index' } },
    ]);
    // results come later, out of order, with an unrelated step between
    await steps(api, r.id, [
      { type: 'tool_result', node: 'worker-2', ts: ts(2900), payload: { call_id: 'c2', output: { status: 200, bytes: 5120 }, duration_ms: 1150 } },
      { type: 'thought', node: 'controller', ts: ts(2950), payload: { text: 'waiting for the search' } },
      { type: 'tool_result', node: 'worker-1', ts: ts(3930), payload: { call_id: 'c1', output: { hits: 3, top: 'A gear ratio is…' }, duration_ms: 2230 } },
      { type: 'llm_call', node: 'controller', ts: ts(4000), payload: { model: 'claude-3-5-sonnet', input_tokens: 4100, output_tokens: 380, cost_usd: 0.0180, latency_ms: 2100 } },
    ]);
    await call(api, 'POST', '/observability/events', { json: { events: [{ run_id: r.id, type: 'run_finished', node: 'controller', ts: ts(6200), payload: { status: 'succeeded', summary: 'A bicycle gear ratio is chainring teeth / sprocket teeth.' } }] } });
    await openRun(page, base, r.id);
    await page.waitForFunction(() => document.querySelectorAll('.vl-row.step').length === 11, { timeout: 5000 });
    const rows = await page.$$eval('.vl-row.step', (els) => els.sort((a, b) => a.dataset.index - b.dataset.index)
      .map((e) => ({ seq: +e.dataset.seq, level: +e.getAttribute('aria-level'), text: e.textContent })));
    const bySeq = Object.fromEntries(rows.map((x, i) => [x.seq, { ...x, i }]));
    // seqs: 1 run_started, 2 plan, 3 llm, 4 call c1, 5 call c2, 6 log, 7 result c2, 8 thought, 9 result c1, 10 llm, 11 finished
    assert(bySeq[9].i === bySeq[4].i + 1 && bySeq[9].level === bySeq[4].level + 1, 'the c1 result sits right under its call');
    assert(bySeq[7].i === bySeq[5].i + 1 && bySeq[7].level === bySeq[5].level + 1, 'the c2 result sits right under its call');
    assert(bySeq[3].level === bySeq[2].level + 1 && bySeq[3].i === bySeq[2].i + 1, 'a parent_id nests the LLM call under the plan');
    assert(/search\(.*\) → ok in 2\.23 s/.test(bySeq[4].text), 'the call shows its result and duration: ' + bySeq[4].text);
    assert(/claude-3-5-sonnet.*2,048 → 512 tok.*\$0\.014.*1\.45 s/.test(bySeq[3].text), 'the LLM call shows model, tokens, cost, latency: ' + bySeq[3].text);
    // the call's detail links its result
    await page.click(`.vl-row.step[data-seq="4"]`);
    await page.waitForFunction(() => document.querySelector('.detail-head .seq')?.textContent === '#4', { timeout: 3000 });
    const detail = await page.$eval('.detail', (e) => e.textContent);
    assert(detail.includes('#9 tool_result') && detail.includes('2.23 s'), 'the detail names the paired result and its duration');
    // keyboard: Left collapses the call (its result disappears), Right opens it again
    await page.focus('.tree-box .vlist');
    await page.keyboard.press('ArrowLeft');
    await page.waitForFunction(() => document.querySelectorAll('.vl-row.step').length === 10, { timeout: 3000 });
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelectorAll('.vl-row.step').length === 11, { timeout: 3000 });
    await page.click(`.vl-row.step[data-seq="3"]`);
    await h.screenshot(page, 'run-tree');
    // timeline: one lane per node
    await page.click('#tab-timeline');
    await page.waitForSelector('#pane-timeline:not([hidden]) canvas');
    const laneNames = await page.evaluate(() => window.__obs.run.current.timeline.lanes);
    assert(JSON.stringify(laneNames) === '["controller","worker-1","worker-2"]', 'one lane per node: ' + JSON.stringify(laneNames));
    const bars = await page.evaluate(() => window.__obs.run.current.timeline.items.filter((it) => it.ev.type === 'tool_call')
      .map((it) => [it.ev.payload.call_id, Math.round(it.t1 - it.t0)]));
    assert(JSON.stringify(bars) === '[["c1",2230],["c2",1150]]', 'a call\'s bar runs to its result: ' + JSON.stringify(bars));
    await sleep(200);
    await h.screenshot(page, 'run-timeline');
    // clicking a bar opens that step: worker-1's lane holds the search call
    const laneIdx = laneNames.indexOf('worker-1');
    // probe along the lane's middle (axis 26 px, lanes 30 px) for the call's bar
    const xy = await page.evaluate((lane) => {
      const r = document.querySelector('.tl-canvas').getBoundingClientRect();
      return { top: r.top + 26 + lane * 30 + 15, left: r.left, width: r.width };
    }, laneIdx);
    let opened = false;
    for (let x = 160; x < xy.width && !opened; x += 12) {
      await page.mouse.click(xy.left + x, xy.top);
      opened = await page.evaluate(() => !document.getElementById('pane-tree').hidden && document.querySelector('.detail-head .seq')?.textContent === '#4');
    }
    assert(opened, 'clicking the search bar opens step #4');
  },

  async error_step() {
    const { api, base, page } = await setup();
    const r = await run(api, { id: 'err-1', name: 'Run that fails', agent: 'a' });
    await steps(api, r.id, [{ type: 'thought', payload: { text: 'start' } }]);
    await openRun(page, base, r.id);
    const before = await page.evaluate(() => ({ ...window.__obs.stream }));
    await steps(api, r.id, [
      { type: 'tool_call', payload: { tool: 'db', call_id: 'x', arguments: {} } },
      { type: 'error', payload: { kind: 'ConnectionError', message: 'database refused the connection', stack: 'at db.connect (db.py:12)\nat main (agent.py:40)' } },
      { type: 'tool_result', payload: { call_id: 'x', output: 'refused', is_error: true, duration_ms: 31 } }]);
    await steps(api, r.id, [{ type: 'thought', payload: { text: 'after the error' } }]);
    await page.waitForSelector('.vl-row.step[data-seq="6"]', { timeout: 5000 });
    const after = await page.evaluate(() => ({ ...window.__obs.stream }));
    assert(after.opens === before.opens && after.errors === before.errors && after.status === 'live',
      `the stream was not disturbed (opens ${before.opens}->${after.opens}, errors ${before.errors}->${after.errors}, ${after.status})`);
    const look = await page.evaluate(() => {
      const bg = (s) => getComputedStyle(document.querySelector(`.vl-row.step[data-seq="${s}"]`)).backgroundColor;
      return { err: bg(4), plain: bg(2), cls: document.querySelector('.vl-row.step[data-seq="4"]').className };
    });
    assert(look.cls.includes('err') && look.err !== look.plain, 'the error row stands out: ' + JSON.stringify(look));
    // first error one click away: scroll away, click, it is selected and shown
    await page.click('.vl-row.step[data-seq="2"]');
    await page.click('.toolbar .btn.danger');
    await page.waitForFunction(() => document.querySelector('.detail-head .seq')?.textContent === '#4', { timeout: 3000 });
    const sel = await page.$eval('.vl-row.selected', (e) => +e.dataset.seq);
    assert(sel === 4, 'the first error is the selected row');
    const text = await page.$eval('.detail', (e) => e.textContent);
    assert(text.includes('database refused the connection') && text.includes('db.py:12'), 'the detail shows message and stack');
    await h.screenshot(page, 'run-error');
    assert(page.url().includes('step=4'), 'the selected step is in the URL');
  },

  async restart() {
    const server = await new h.ServerProcess().start();
    const browser = await h.launchBrowser();
    const page = await h.newPage(browser);
    const base = await h.pageBase(server);
    const api = () => server.url;
    const r = await run(api(), { id: 'restart-1', name: 'Survives a restart', agent: 'a' });
    const mk = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => ({ type: 'thought', payload: { text: 'step ' + (a + i) } }));
    await steps(api(), r.id, mk(1, 5));
    await openRun(page, base, r.id);
    await page.waitForFunction(() => document.querySelectorAll('.vl-row.step').length === 6, { timeout: 5000 });
    await server.stop();
    await page.waitForFunction(() => window.__obs.stream.status !== 'live', { timeout: 10000 });
    await server.start();  // same port, same database
    await h.pageBase(server);
    await steps(api(), r.id, mk(6, 10));  // while the page is still away: replayed on resume
    await page.waitForFunction(() => window.__obs.run.current.model.steps.length === 11, { timeout: 20000 });
    await page.waitForFunction(() => window.__obs.stream.status === 'live', { timeout: 10000 });
    await steps(api(), r.id, mk(11, 15));  // live again
    await page.waitForFunction(() => window.__obs.run.current.model.steps.length === 16, { timeout: 5000 });
    await sleep(300);
    const seqs = await treeSeqs(page);
    const want = Array.from({ length: 16 }, (_, i) => i + 1);
    assert(JSON.stringify(seqs) === JSON.stringify(want), 'no gap, no duplicate: ' + seqs.join(','));
    const texts = await page.$$eval('.vl-row.step', (els) => els.map((e) => e.textContent));
    assert(new Set(texts).size === texts.length, 'no row shown twice');
    const stats = await page.evaluate(() => ({ ...window.__obs.stream }));
    console.log('stream after restart: ' + JSON.stringify(stats));
  },

  async rewound() {
    // The database goes back to an earlier copy (as a restore does) while the
    // page holds later offsets: the server says `rewound` and the page reloads.
    const fs = require('fs');
    const server = await new h.ServerProcess().start();
    const browser = await h.launchBrowser();
    const page = await h.newPage(browser);
    const base = await h.pageBase(server);
    const r = await run(server.url, { id: 'rew-1', name: 'Restored', agent: 'a' });
    const mk = (tag, n) => Array.from({ length: n }, (_, i) => ({ type: 'thought', payload: { text: `${tag} ${i}` } }));
    await steps(server.url, r.id, mk('kept', 3));
    await server.stop();
    const copy = server.db + '.copy';
    for (const ext of ['', '-wal']) if (fs.existsSync(server.db + ext)) fs.copyFileSync(server.db + ext, copy + ext);
    await server.start();
    await steps(server.url, r.id, mk('lost', 6));
    await openRun(page, base, r.id);
    await page.waitForFunction(() => window.__obs.run.current.model.steps.length === 10, { timeout: 5000 });
    await server.stop();
    for (const ext of ['', '-wal', '-shm']) fs.rmSync(server.db + ext, { force: true });
    for (const ext of ['', '-wal']) if (fs.existsSync(copy + ext)) fs.copyFileSync(copy + ext, server.db + ext);
    await server.start();
    await steps(server.url, r.id, mk('after', 2));
    await page.waitForFunction(() => window.__obs.stream.rewinds >= 1, { timeout: 20000 });
    await page.waitForFunction(() => window.__obs.run.current?.loadedAll && window.__obs.stream.status === 'live', { timeout: 10000 });
    await page.waitForFunction(() => window.__obs.run.current.model.steps.length === 6, { timeout: 5000 });
    const texts = await page.evaluate(() => window.__obs.run.current.model.steps.map((e) => e.payload.text || e.type));
    assert(JSON.stringify(texts) === JSON.stringify(['run_started', 'kept 0', 'kept 1', 'kept 2', 'after 0', 'after 1']),
      'the page shows the restored history, nothing from before: ' + texts.join(', '));
  },

  async overflow() {
    const { api, base, page } = await setup({ extra: ['--stream-queue-frames', '32'] });
    const r = await run(api, { id: 'ovf-1', name: 'Burst', agent: 'a' });
    await openRun(page, base, r.id);
    let total = 1;
    for (let b = 0; b < 4; b++) {
      const list = Array.from({ length: 1000 }, (_, i) => ({ type: 'log', payload: { level: 'info', message: `burst ${b} line ${i}` } }));
      await steps(api, r.id, list);
      total += 1000;
    }
    await page.waitForFunction((n) => window.__obs.run.current.model.steps.length === n, { timeout: 30000 }, total);
    const stats = await page.evaluate(() => ({ ...window.__obs.stream }));
    const seqs = await page.evaluate(() => window.__obs.run.current.model.steps.map((s) => s.seq));
    console.log('stream after the burst: ' + JSON.stringify(stats));
    assert(seqs.every((s, i) => s === i + 1), 'every step once, in order');
    assert(stats.overflows >= 1, 'the burst overflowed the 32-frame queue at least once');
  },

  async keys() {
    const { api, base, page } = await setup({ keys: ['read:reader-key-0123456789', 'admin:admin-key-0123456789'] });
    const admin = 'admin-key-0123456789';
    const r = await run(api, { id: 'keyed-1', name: 'Behind a key', agent: 'a' }, admin);
    await steps(api, r.id, [{ type: 'thought', payload: { text: 'hello' } }], admin);
    await page.goto(base + '/');
    await page.waitForSelector('#key-dialog[open]', { timeout: 5000 });
    await h.screenshot(page, 'key-dialog');
    // a wrong key: refused, with a clear message and a way to enter another
    await page.type('#key-input', 'not-a-key');
    await page.click('#key-save');
    await page.waitForSelector('.error-panel', { timeout: 5000 });
    const msg = await page.$eval('.error-panel', (e) => e.textContent);
    assert(msg.includes('An API key is needed'), 'a refused key says so: ' + msg);
    await page.click('.error-panel .btn.primary');
    await page.waitForSelector('#key-dialog[open]');
    await page.type('#key-input', 'reader-key-0123456789');
    await page.click('#key-save');
    await page.waitForSelector('.run-row[data-run-id="keyed-1"]', { timeout: 5000 });
    assert(await page.evaluate(() => localStorage.getItem('obs.api_key')) === 'reader-key-0123456789', 'the key is kept in local storage');
    // the stream works with access_token: a step appears live in the run view
    await page.evaluate(() => document.querySelector('.run-row[data-run-id="keyed-1"] a').click());
    await page.waitForFunction(() => window.__obs.stream.status === 'live', { timeout: 10000 });
    const res = await steps(api, r.id, [{ type: 'thought', payload: { text: 'live behind a key' } }], admin);
    await page.waitForSelector(`.vl-row.step[data-seq="${res.events[0].seq}"]`, { timeout: 3000 });
    // a read key on the admin-only backups: 403, said clearly
    await page.goto(base + '/#/backups');
    await page.waitForSelector('.error-panel', { timeout: 5000 });
    const forbidden = await page.$eval('.error-panel', (e) => e.textContent);
    assert(forbidden.includes('not allowed') && forbidden.includes('admin'), 'a 403 explains the scope: ' + forbidden);
    await h.screenshot(page, 'forbidden');
    await page.click('.error-panel .btn.primary');
    await page.waitForSelector('#key-dialog[open]');
    await page.type('#key-input', admin);
    await page.click('#key-save');
    await page.waitForFunction(() => document.querySelector('.backups-view') && !document.querySelector('.error-panel') && document.body.textContent.includes('No backup yet'), { timeout: 5000 });
    // the page never went blank
    assert(page.pageErrors.length === 0, 'no page errors: ' + page.pageErrors.join('; '));
  },

  async large_run() {
    const { api, base, page } = await setup();
    const r = await run(api, { id: 'big-1', name: 'Ten thousand steps', agent: 'bulk' });
    const t = Date.now() - 3600000;
    for (let b = 0; b < 10; b++) {
      const list = [];
      for (let i = 0; i < 1000; i++) {
        const k = b * 1000 + i;
        const node = 'worker-' + (k % 4);
        if (k % 3 === 0) list.push({ type: 'tool_call', node, ts: new Date(t + k * 300).toISOString(), payload: { tool: 'step', call_id: 'c' + k, arguments: { k } } });
        else if (k % 3 === 1) list.push({ type: 'tool_result', node, ts: new Date(t + k * 300).toISOString(), payload: { call_id: 'c' + (k - 1), output: { ok: true }, duration_ms: 280 } });
        else list.push({ type: 'llm_call', node, ts: new Date(t + k * 300).toISOString(), payload: { model: 'm', input_tokens: 10, output_tokens: 5, latency_ms: 120 } });
      }
      await steps(api, r.id, list);
    }
    await page.goto(base + '/');  // warm: the page's files cached, as for a user who has it open
    await page.waitForSelector('.run-row');
    await page.goto(`${base}/#/run/big-1`);
    await page.reload();  // a fresh load straight into the run
    await page.waitForFunction(() => window.__obs?.run.current?.metrics.first_screen_ms != null, { timeout: 10000 });
    await page.waitForFunction(() => window.__obs.run.current.loadedAll, { timeout: 20000 });
    const m = await page.evaluate(() => window.__obs.run.current.metrics);
    const domRows = await page.$$eval('.vl-row.step', (els) => els.length);
    const count = await page.evaluate(() => window.__obs.run.current.model.steps.length);
    console.log(`10,000-step run: first screen ${m.first_screen_ms.toFixed(0)} ms after the view started, ` +
      `${m.first_screen_since_navigation_ms.toFixed(0)} ms after navigation; all ${count} steps in ${m.all_loaded_ms.toFixed(0)} ms; ${domRows} rows in the DOM`);
    assert(count === 10001, 'every step loaded');
    assert(domRows < 120, 'only visible rows are in the DOM');
    assert(m.first_screen_since_navigation_ms < 1500, 'first screen under 1 s (asserted loosely: 1.5 s on a loaded machine)');
    // scrolling to the end renders the last steps
    await page.focus('.tree-box .vlist');
    await page.keyboard.press('End');
    await page.waitForSelector('.vl-row.step.selected', { timeout: 3000 });
    await h.screenshot(page, 'run-large');
  },

  async artifacts() {
    const { api, base, page } = await setup();
    const r = await run(api, { id: 'art-1', name: 'Makes files', agent: 'a' });
    const put = (name, type, body) => call(api, 'PUT', `/observability/runs/${r.id}/artifacts/${name}`, { body, headers: { 'Content-Type': type } });
    await put('report.json', 'application/json', JSON.stringify({ answer: 42, sources: ['a', 'b'] }));
    await put('notes.txt', 'text/plain', 'line one\nline two\n');
    // a 2x2 PNG
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
    await put('chart.png', 'image/png', png);
    await openRun(page, base, r.id, '?tab=artifacts');
    await page.waitForFunction(() => document.querySelectorAll('.artifacts tbody tr').length === 3, { timeout: 5000 });
    const clickIn = async (name, label) => page.evaluate((n, l) => {
      const tr = [...document.querySelectorAll('.artifacts tbody tr')].find((x) => x.textContent.includes(n));
      [...tr.querySelectorAll('button')].find((b) => b.textContent === l).click();
    }, name, label);
    await clickIn('report.json', 'preview');
    await page.waitForFunction(() => document.querySelector('.artifact-preview .json')?.textContent.includes('answer'), { timeout: 5000 });
    await clickIn('notes.txt', 'preview');
    await page.waitForFunction(() => document.querySelector('.artifact-preview pre')?.textContent === 'line one\nline two\n', { timeout: 5000 });
    await clickIn('chart.png', 'preview');
    await page.waitForFunction(() => document.querySelector('.artifact-preview img')?.naturalWidth === 2, { timeout: 5000 });
    // download: the bytes the browser receives are the stored ones
    const dir = await h.allowDownloads(page);
    await clickIn('notes.txt', 'download');
    const fs = require('fs');
    const path = require('path');
    // Firefox creates the file empty at once and fills it from a .part file,
    // Chromium renames a .crdownload: wait for the whole content (5 s at most)
    const file = path.join(dir, 'notes.txt');
    const saved = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);
    for (let i = 0; i < 50 && saved() !== 'line one\nline two\n'; i++) await sleep(100);
    assert(saved() === 'line one\nline two\n', 'the download holds the artifact: ' + JSON.stringify(saved()));
    await clickIn('report.json', 'preview');
    await page.waitForFunction(() => document.querySelector('.artifact-preview .json')?.textContent.includes('answer'), { timeout: 5000 });
    await h.screenshot(page, 'run-artifacts');
  },

  async backups() {
    const { api, base, page } = await setup();
    await run(api, { id: 'b-1', name: 'Something to back up', agent: 'a' });
    await page.goto(base + '/#/backups');
    await page.waitForFunction(() => document.body.textContent.includes('No backup yet'), { timeout: 5000 });
    await page.click('#b-local');
    await page.click('#b-run');
    await page.waitForSelector('.ok-panel', { timeout: 15000 });
    const ok = await page.$eval('.ok-panel', (e) => e.textContent);
    assert(ok.includes('.tar.gz') && ok.includes('sha256'), 'the result shows location and digest: ' + ok.slice(0, 200));
    await page.waitForFunction(() => document.querySelectorAll('.backups-view tbody tr').length === 1, { timeout: 5000 });
    // with upload and no S3 configured: the server's error body, shown as such
    await page.click('#b-local');
    await page.click('#b-run');
    await page.waitForSelector('.backup-result .error-panel', { timeout: 15000 });
    const err = await page.$eval('.backup-result .error-panel', (e) => e.textContent);
    const direct = await call(api, 'POST', '/observability/backup', { expect: [503] });
    assert(direct.status === 503 && err.includes(direct.body.error.message), `the error body is shown: ${err} vs ${JSON.stringify(direct.body)}`);
    await page.waitForFunction(() => document.querySelectorAll('.backups-view tbody tr').length >= 2, { timeout: 5000 });
    await h.screenshot(page, 'backups');
  },
};

if (!cases[CASE]) {
  console.error(`usage: web_test.cjs --case (${Object.keys(cases).join('|')}) --server BINARY [--dev-server] [--shots DIR]`);
  process.exit(2);
}
h.runTest('web_' + CASE, cases[CASE], { seconds: CASE === 'large_run' || CASE === 'overflow' ? 150 : 90 });
