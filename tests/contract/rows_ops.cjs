// Conformance rows of the operations routes (DELETE of a run included), the
// routes still being wired (openapi.json, /v1/traces, the web page, CORS), the answers
// every path gives (404, 405, preflight), and the writes refused while
// another connection holds the database's write lock (`locked`, a queue of
// 1000 events) or while S3 hangs (`s3dead`, an endpoint that accepts and
// never answers until it is closed).
'use strict';
const fs = require('fs');
const net = require('net');
const { spawn } = require('child_process');
const { many_thoughts, json_type } = require('./rows_write.cjs');
const { seeded_run } = require('./rows_read.cjs');

const pause = (ms) => new Promise((ok) => setTimeout(ok, ms));
const once = (c, key, make) => (c.state[key] ??= make());

// Holds BEGIN IMMEDIATE on `db` from another process (Python's sqlite3)
// until release() is called.
function hold_write_lock(db) {
  const code = 'import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None,timeout=10)\n'
    + "c.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\nsys.stdin.read()\nc.execute('ROLLBACK')\n";
  const child = spawn('python3', ['-c', code, db], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.stdout.once('data', () => resolve({ release: () => new Promise((done) => { child.once('exit', done); child.stdin.end(); }) }));
  });
}

// The server's busy timeout is 5 s: the writes below fail after it with 503
// `unavailable`, and the 1000-event batch sent meanwhile finds the queue
// full (503 `overloaded`); /readyz then says the database takes no writes.
function locked_scenario(c) {
  return once(c, 'locked', async () => {
    const inst = c.locked;
    const run = await seeded_run(c, inst);
    const lock = await hold_write_lock(inst.db);
    try {
      // Each write group waits out the busy timeout: the first request is a
      // group of its own, the other four form the second (about 10 s in all).
      const failed = (e) => ({ status: 0, headers: {}, body: Buffer.alloc(0), text: `request failed: ${e.message}` });
      const writes = {
        events: c.post(inst, '/observability/events', JSON.stringify({ events: many_thoughts(run, 1) }), json_type),
        runs: c.post(inst, '/observability/runs', JSON.stringify({ name: 'n', agent: 'a' }), json_type),
        steps: c.post(inst, `/observability/runs/${run}/steps`, JSON.stringify({ type: 'thought', payload: { text: 'x' } }), json_type),
        finish: c.post(inst, `/observability/runs/${run}/finish`, JSON.stringify({ status: 'succeeded' }), json_type),
        artifact: c.req(inst, 'PUT', `/observability/runs/${run}/artifacts/locked.txt`, { body: 'x' }),
      };
      await pause(300);
      const overload = await c.post(inst, '/observability/events', JSON.stringify({ events: many_thoughts(run, 1000) }), json_type);
      const out = { overload };
      for (const [k, p] of Object.entries(writes)) out[k] = await p.catch(failed);
      // A deletion runs between write groups: after them, another busy timeout.
      out.delete = await c.req(inst, 'DELETE', `/observability/runs/${run}`).catch(failed);
      out.readyz = await c.req(inst, 'GET', '/readyz');
      return out;
    } finally {
      await lock.release();
    }
  });
}

// An S3 endpoint that accepts connections and answers nothing until closed.
function s3_scenario(c) {
  return once(c, 's3', async () => {
    const held = c.s3_sockets;
    const first = c.req(c.s3dead, 'POST', '/observability/backup');
    for (let i = 0; i < 100 && held.size === 0; ++i) await pause(20);
    const second = await c.req(c.s3dead, 'POST', '/observability/backup');
    for (const s of held) s.destroy();
    c.s3_server.close();
    return { busy: second, refused: await first };
  });
}

function start_silent_s3() {
  const sockets = new Set();
  const server = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, sockets, port: server.address().port })));
}

const trace_json = (name) => JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'contract' } }] },
  scopeSpans: [{ scope: { name: 'contract' }, spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name,
    kind: 3, startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000', status: { code: 1 },
    attributes: [{ key: 'http.method', value: { stringValue: 'GET' } }] }] }] }] });

const rows = [
  { op: 'POST /observability/backup', status: 201, name: '?upload=false keeps it local', run: (c) => c.req(c.main, 'POST', '/observability/backup?upload=false'),
    check: (r, c) => (r.json && fs.existsSync(r.json.location) ? [] : [`the tarball ${r.json && r.json.location} does not exist`]) },
  { op: 'POST /observability/backup', status: 400, name: 'upload=maybe', run: (c) => c.req(c.main, 'POST', '/observability/backup?upload=maybe') },
  { op: 'POST /observability/backup', status: 503, name: 'S3 not configured: the message says what to do', run: (c) => c.req(c.main, 'POST', '/observability/backup'),
    check: (r) => (r.json && /upload=false/.test(r.json.error.message) && /AWS_ENDPOINT_URL_S3/.test(r.json.error.message) ? [] : ['the message should mention ?upload=false and AWS_ENDPOINT_URL_S3']) },
  { op: 'POST /observability/backup', status: 409, chain: 's3', name: 'a second backup while one uploads', run: async (c) => (await s3_scenario(c)).busy },
  { op: 'POST /observability/backup', status: 502, chain: 's3', name: 'the S3 endpoint drops the connection', run: async (c) => (await s3_scenario(c)).refused },
  { op: 'GET /observability/backups', status: 200, name: 'the history, failures included', run: async (c) => { await c.req(c.main, 'POST', '/observability/backup'); return c.req(c.main, 'GET', '/observability/backups?limit=500'); },
    check: (r) => (r.json && r.json.backups.some((b) => b.status === 'failed') ? [] : ['expected a failed backup in the history']) },
  { op: 'GET /observability/backups', status: 400, name: 'limit=501', run: (c) => c.req(c.main, 'GET', '/observability/backups?limit=501') },

  { op: 'GET /healthz', status: 200, name: 'live', run: (c) => c.req(c.main, 'GET', '/healthz') },
  { op: 'GET /readyz', status: 200, name: 'ready', run: (c) => c.req(c.main, 'GET', '/readyz') },
  { op: 'GET /metrics', status: 200, name: 'Prometheus text', run: (c) => c.req(c.main, 'GET', '/metrics') },
  { op: 'GET /observability/openapi.json', status: 200, name: 'the document served is docs/openapi.json', run: (c) => c.req(c.main, 'GET', '/observability/openapi.json'),
    check: (r, c) => (r.json && JSON.stringify(r.json) === JSON.stringify(c.doc.doc) ? [] : ['the served document differs from docs/openapi.json']) },

  { op: 'DELETE /observability/runs/{run_id}', status: 204, name: 'a run with events and an artifact, then it is gone', run: async (c) => {
    const run = await seeded_run(c);
    await c.req(c.main, 'PUT', `/observability/runs/${run}/artifacts/a.txt`, { body: 'x' });
    const r = await c.req(c.main, 'DELETE', `/observability/runs/${run}`);
    r.after = await c.req(c.main, 'GET', `/observability/runs/${run}`);
    return r;
  }, check: (r) => (r.after.status === 404 ? [] : [`GET after DELETE answered ${r.after.status}`]) },
  { op: 'DELETE /observability/runs/{run_id}', status: 404, name: 'an unknown run', run: (c) => c.req(c.main, 'DELETE', `/observability/runs/${c.uid('none')}`) },
  { op: 'DELETE /observability/runs/{run_id}', status: 400, name: 'a query parameter', run: async (c) => c.req(c.main, 'DELETE', `/observability/runs/${await seeded_run(c)}?cascade=true`) },

  { op: 'POST /v1/traces', status: 200, name: 'OTLP JSON, one plain span', run: (c) => c.post(c.main, '/v1/traces', trace_json('GET /x'), json_type) },
  { op: 'POST /v1/traces', status: 200, name: 'OTLP protobuf, an empty request', run: (c) => c.post(c.main, '/v1/traces', Buffer.alloc(0), { 'Content-Type': 'application/x-protobuf' }) },
  { op: 'POST /v1/traces', status: 400, name: 'JSON cut short', run: (c) => c.post(c.main, '/v1/traces', '{"resourceSpans": [', json_type) },
  { op: 'POST /v1/traces', status: 413, name: 'over the body limit', run: (c) => c.post(c.main, '/v1/traces', trace_json('x'.repeat(80 * 1024)), json_type) },
  { op: 'POST /v1/traces', status: 415, name: 'text/plain', run: (c) => c.post(c.main, '/v1/traces', trace_json('x'), { 'Content-Type': 'text/plain' }) },

  { op: 'GET /', status: 200, name: 'the page', run: (c) => c.req(c.main, 'GET', '/') },
  { op: 'GET /ui/{file}', status: 200, name: 'the first /ui/ asset the page refers to', run: async (c) => {
    const page = await c.req(c.main, 'GET', '/');
    const m = /["'](\/ui\/[^"']+)["']/.exec(page.text);
    if (!m) return page;  // no asset reference: the row fails on its status or route
    return c.req(c.main, 'GET', m[1]);
  } },
  { op: 'GET /ui/{file}', status: 404, name: 'a file the page does not have', run: (c) => c.req(c.main, 'GET', '/ui/no-such-file.js') },

  { op: '*', status: 404, name: 'a path that is no route', run: (c) => c.req(c.main, 'GET', '/no/such/route') },
  { op: '*', status: 204, chain: 'cors', name: 'CORS preflight from an allowed origin', run: (c) => c.req(c.cors, 'OPTIONS', '/observability/runs', { headers: {
    Origin: 'http://page.test', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization, last-event-id' } }),
  check: (r) => {
    const p = [];
    if (r.headers['access-control-allow-origin'] !== 'http://page.test') p.push('Access-Control-Allow-Origin is not the origin');
    if (!/origin/i.test(r.headers.vary || '')) p.push('no Vary: Origin');
    const allowed = (r.headers['access-control-allow-headers'] || '').toLowerCase();
    for (const h of ['authorization', 'content-type', 'last-event-id', 'x-step-id']) if (!allowed.includes(h)) p.push(`${h} not in Access-Control-Allow-Headers`);
    return p;
  } },
  { op: 'GET /observability/runs', status: 200, chain: 'cors', name: 'CORS: an allowed origin gets Access-Control-Allow-Origin', run: (c) => c.req(c.cors, 'GET', '/observability/runs', { headers: { Origin: 'http://page.test' } }),
    check: (r) => (r.headers['access-control-allow-origin'] === 'http://page.test' && /origin/i.test(r.headers.vary || '') ? [] : ['no Access-Control-Allow-Origin / Vary on the answer']) },
  { op: 'GET /observability/runs/{run_id}', status: 404, chain: 'cors', name: 'CORS headers on errors too', run: (c) => c.req(c.cors, 'GET', '/observability/runs/none', { headers: { Origin: 'http://page.test' } }),
    check: (r) => (r.headers['access-control-allow-origin'] === 'http://page.test' ? [] : ['no Access-Control-Allow-Origin on the 404']) },
  { op: 'GET /observability/stream', status: 200, chain: 'keys', name: 'EventSource auth: ?access_token= with a read key', run: (c) => c.stream(c.keys, `/observability/stream?access_token=${c.key.read}`, { timeout_ms: 300 }) },
];

// The writes refused under the lock, one row each.
for (const [k, op] of [['events', 'POST /observability/events'], ['runs', 'POST /observability/runs'], ['steps', 'POST /observability/runs/{run_id}/steps'],
  ['finish', 'POST /observability/runs/{run_id}/finish'], ['artifact', 'PUT /observability/runs/{run_id}/artifacts/{name}'],
  ['delete', 'DELETE /observability/runs/{run_id}']]) {
  rows.push({ op, status: 503, chain: 'locked', name: 'another connection holds the write lock past the busy timeout', run: async (c) => (await locked_scenario(c))[k] });
}
rows.push({ op: 'POST /observability/events', status: 503, chain: 'locked', name: 'the write queue is full (overloaded, Retry-After)', run: async (c) => (await locked_scenario(c)).overload,
  check: (r) => (r.json && r.json.error.code === 'overloaded' ? [] : ['expected overloaded']) });
rows.push({ op: 'GET /readyz', status: 503, chain: 'locked', name: 'after a failed write transaction', run: async (c) => (await locked_scenario(c)).readyz });

module.exports = { rows, start_silent_s3 };
