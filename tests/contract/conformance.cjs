#!/usr/bin/env node
// Schema conformance, end to end: drives the real observability-server
// binary so that every route gives its 2xx and each of its error statuses,
// and checks each real answer (status, Content-Type, headers, body, stream
// frames) against docs/openapi.json. The table is checked both ways: every
// (route, status) the document lists must have a row, and every answer must
// be one the document lists.
//
// usage: conformance.cjs SERVER_BINARY OPENAPI_JSON NODE_MODULES_DIR
'use strict';
const { start_server } = require('./lib/server_process.cjs');
const { request, read_stream } = require('./lib/http.cjs');
const { contract_document } = require('./lib/openapi_check.cjs');
const { rows: write_rows } = require('./rows_write.cjs');
const { rows: read_rows } = require('./rows_read.cjs');
const { rows: ops_rows, start_silent_s3 } = require('./rows_ops.cjs');

const [binary, doc_path, node_modules_arg] = process.argv.slice(2);
const node_modules = node_modules_arg && require('path').resolve(node_modules_arg);
if (!binary || !doc_path || !node_modules) {
  console.error('usage: conformance.cjs SERVER_BINARY OPENAPI_JSON NODE_MODULES_DIR');
  process.exit(2);
}
const overall_timeout_ms = 60000;
const key = { ingest: 'ingest-key-0123456789abcdef', read: 'read-key-0123456789abcdef', admin: 'admin-key-0123456789abcdef' };
const wrong_key_for = { ingest: key.read, read: key.ingest, admin: key.read };
const concrete = (template) => template.replace('{run_id}', 'r-contract').replace('{name}', 'a.txt').replace('{file}', 'app.js');

// 401 and 403 for every route that needs a key; 405 for every path.
function generated_rows(doc) {
  const rows = [];
  for (const [p, item] of Object.entries(doc.doc.paths)) {
    const methods = Object.keys(item).map((m) => m.toUpperCase());
    for (const [method, op] of Object.entries(item)) {
      const scope = (op.security || []).flatMap((s) => s.bearer || [])[0];
      if (!scope) continue;
      const name = `${method.toUpperCase()} ${p}`;
      const send = (auth) => (c) => c.req(c.keys, method.toUpperCase(), concrete(p), { headers: { ...auth, 'Content-Type': 'application/json' }, body: ['post', 'put'].includes(method) ? '{}' : undefined });
      rows.push({ op: name, status: 401, chain: 'keys', name: 'no key', run: send({}) });
      rows.push({ op: name, status: 401, chain: 'keys', name: 'an unknown key', run: send({ Authorization: 'Bearer not-a-key-of-this-server' }) });
      rows.push({ op: name, status: 403, chain: 'keys', name: `a key without scope ${scope}`, run: send({ Authorization: `Bearer ${wrong_key_for[scope]}` }),
        check: (r) => (r.json && r.json.error.message.includes(scope) ? [] : [`the 403 should name the scope ${scope}`]) });
    }
    const other = ['PATCH'].find((m) => !methods.includes(m));
    rows.push({ op: '*', status: 405, name: `${other} ${p}`, run: (c) => c.req(c.main, other, concrete(p)),
      check: (r) => (r.headers.allow && methods.every((m) => r.headers.allow.includes(m)) ? [] : [`Allow '${r.headers.allow}' should list ${methods}`]) });
  }
  rows.push({ op: 'GET /observability/stream', status: 401, chain: 'keys', name: '?access_token= with an unknown key', run: (c) => c.req(c.keys, 'GET', '/observability/stream?access_token=nope-nope-nope-nope') });
  rows.push({ op: 'GET /observability/stream', status: 403, chain: 'keys', name: '?access_token= with an ingest key', run: (c) => c.req(c.keys, 'GET', `/observability/stream?access_token=${key.ingest}`) });
  return rows;
}

async function start_instances(c) {
  const s3 = await start_silent_s3();
  c.s3_server = s3.server;
  c.s3_sockets = s3.sockets;
  const specs = {
    main: { args: ['--max-body-bytes', '65536', '--max-artifact-bytes', '65536'] },
    keys: { args: ['--api-key', `ingest:${key.ingest}`, '--api-key', `read:${key.read}`, '--api-key', `admin:${key.admin}`] },
    busy: { args: ['--stream-max-subscribers', '1', '--stream-queue-frames', '8', '--stream-ping-ms', '100'] },
    locked: { args: ['--queue-events', '1000'] },
    s3dead: { env: { OBS_S3_BUCKET: 'contract', AWS_ACCESS_KEY_ID: 'contract', AWS_SECRET_ACCESS_KEY: 'contract-secret', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3.port}` } },
    cors: { args: ['--cors-origin', 'http://page.test'] },
  };
  const started = await Promise.allSettled(Object.entries(specs).map(([name, spec]) => start_server(binary, { ...spec, name })));
  Object.keys(specs).forEach((name, i) => {
    if (started[i].status === 'fulfilled') c[name] = started[i].value;
    else c.startup_errors[name] = started[i].reason.message;
  });
}

const chain_instance = { main: 'main', keys: 'keys', busy: 'busy', locked: 'locked', s3: 's3dead', cors: 'cors' };
function chain_of(row) {
  return row.chain || 'main';
}

async function run_row(c, row) {
  const t0 = Date.now();
  const result = { row, problems: [] };
  const inst = chain_instance[chain_of(row)];
  if (!c[inst]) {
    result.problems.push(`instance '${inst}' did not start: ${c.startup_errors[inst]}`);
    return result;
  }
  try {
    const res = await row.run(c);
    result.status = res.status;
    try { res.json = JSON.parse(res.text); } catch { res.json = undefined; }
    if (res.status !== row.status) result.problems.push(`expected ${row.status}, got ${res.status}: ${res.text.slice(0, 160)}`);
    result.problems.push(...c.doc.check(row.op, res));
    if (res.status === row.status && row.check) result.problems.push(...row.check(res, c));
  } catch (e) {
    result.problems.push(`request failed: ${e.message}`);
  }
  result.ms = Date.now() - t0;
  return result;
}

async function main() {
  const doc = new contract_document(doc_path, node_modules);
  let serial = 0;
  const c = {
    doc, key, state: {}, startup_errors: {},
    uid: (prefix) => `${prefix}-${process.pid}-${++serial}`,
    req: (inst, method, path, opts) => request(inst.base, method, path, opts),
    post: (inst, path, body, headers) => request(inst.base, 'POST', path, { headers, body }),
    stream: (inst, path, opts) => read_stream(inst.base, path, opts),
  };
  const rows = [...write_rows, ...read_rows, ...ops_rows, ...generated_rows(doc)];
  await start_instances(c);
  const chains = {};
  for (const row of rows) (chains[chain_of(row)] ??= []).push(row);
  const results = (await Promise.all(Object.values(chains).map(async (list) => {
    const out = [];
    for (const row of list) out.push(await run_row(c, row));
    return out;
  }))).flat();
  // Every instance must stop cleanly on SIGTERM (exit 0), or the run fails.
  const exits = await Promise.all(['main', 'keys', 'busy', 'locked', 's3dead', 'cors'].filter((n) => c[n]).map(async (n) => {
    const code = await c[n].stop();
    if (code === 0) c[n].remove();
    return code === 0 ? null : `instance ${n} exited with ${code} on SIGTERM; its files are kept in ${c[n].dir}`;
  }));
  if (c.s3_server.listening) c.s3_server.close();

  // Both directions: documented pairs without a row, rows of undocumented pairs.
  const documented = new Set(doc.pairs());
  const tabled = new Set(rows.map((r) => `${r.op} ${r.status}`));
  const missing_rows = [...documented].filter((p) => !tabled.has(p));
  const undocumented = [...tabled].filter((p) => !documented.has(p));

  let failed = 0;
  for (const r of results) {
    const ok = r.problems.length === 0;
    if (!ok) ++failed;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${r.row.op} ${r.row.status} [${r.row.name}]${r.status !== undefined && r.status !== r.row.status ? ` got ${r.status}` : ''} (${r.ms ?? 0} ms)`);
    for (const p of r.problems) console.log(`       - ${p}`);
  }
  for (const p of missing_rows) console.log(`FAIL documented but no row: ${p}`);
  for (const p of undocumented) console.log(`FAIL row for an undocumented answer: ${p}`);
  const bad_exits = exits.filter(Boolean);
  for (const e of bad_exits) console.log(`FAIL ${e}`);
  const pairs_failing = new Set(results.filter((r) => r.problems.length).map((r) => `${r.row.op} ${r.row.status}`));
  console.log(`\n${results.length} rows over ${tabled.size} (route, status) pairs of ${documented.size} documented; `
    + `${failed} rows failed (${pairs_failing.size} pairs), ${missing_rows.length} pairs without a row, ${undocumented.length} rows undocumented`);
  process.exit(failed || missing_rows.length || undocumented.length || bad_exits.length ? 1 : 0);
}

setTimeout(() => { console.error(`conformance: not done after ${overall_timeout_ms} ms`); process.exit(1); }, overall_timeout_ms).unref();
main().catch((e) => { console.error(e.stack); process.exit(1); });
