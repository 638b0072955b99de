// Conformance rows of the write routes: events, runs, steps, finish and
// artifact uploads, on the keyless instance `main` (64 KiB body and artifact
// limits). Each row makes the server give one (route, status) for real.
'use strict';
const zlib = require('zlib');

const EVENTS = 'POST /observability/events';
const RUNS = 'POST /observability/runs';
const STEPS = 'POST /observability/runs/{run_id}/steps';
const FINISH = 'POST /observability/runs/{run_id}/finish';
const PUT_ART = 'PUT /observability/runs/{run_id}/artifacts/{name}';
const json_type = { 'Content-Type': 'application/json' };

const one_of_each = (run) => [
  { run_id: run, type: 'run_started', payload: { name: 'contract', agent: 'planner', tags: ['t'], metadata: { k: 'v' } } },
  { run_id: run, type: 'thought', payload: { text: 'think' }, node: 'worker-1' },
  { run_id: run, type: 'tool_call', id: `${run}.c1`, payload: { tool: 'search', call_id: 'c1', arguments: { q: 'gears' } } },
  { run_id: run, type: 'tool_result', parent_id: `${run}.c1`, payload: { call_id: 'c1', output: [1, 'two'], is_error: false, duration_ms: 12 } },
  { run_id: run, type: 'llm_call', ts: '2026-11-27T22:04:05.123Z', payload: { model: 'm', provider: 'p', input_tokens: 10, output_tokens: 5, latency_ms: 100, cost_usd: 0.00063, prompt: [{ role: 'user' }], completion: 'ok' } },
  { run_id: run, type: 'error', payload: { kind: 'ToolError', message: 'boom', stack: 'at x', fatal: false } },
  { run_id: run, type: 'log', payload: { level: 'warning', message: 'careful' } },
  { run_id: run, type: 'run_finished', payload: { status: 'failed', summary: 'done' } },
];
const span_event = (run) => ({ run_id: run, type: 'span', payload: { name: 'GET /x', kind: 'client', status: 'ok', duration_ms: 3, attributes: { 'http.method': 'GET' } } });
const many_thoughts = (run, n) => Array.from({ length: n }, (_, i) => ({ run_id: run, type: 'thought', payload: { text: `t${i}` } }));

// The main instance's limit is 64 KiB: this body is about 80 KiB.
const oversized = (run) => JSON.stringify({ events: [{ run_id: run, type: 'thought', payload: { text: 'x'.repeat(80 * 1024) } }] });

// Requests common to the JSON write routes: the same statuses for the same faults.
function json_write_rows(op, path_of, good_body, label) {
  return [
    { op, status: 400, name: `${label}: body is not JSON (bad_json)`, run: (c) => c.post(c.main, path_of(c), '{"events": [', json_type),
      check: (r) => (r.json && r.json.error.code === 'bad_json' && /byte/.test(r.json.error.message) ? [] : ['expected bad_json with a byte offset']) },
    { op, status: 413, name: `${label}: body over the limit`, run: (c) => c.post(c.main, path_of(c), oversized(c.uid('big')), json_type) },
    { op, status: 413, name: `${label}: gzip body whose DECODED size is over the limit (a zip bomb)`,
      run: (c) => c.post(c.main, path_of(c), zlib.gzipSync(Buffer.from(`{"pad":"${' '.repeat(2 * 1024 * 1024)}"}`)), { ...json_type, 'Content-Encoding': 'gzip' }) },
    { op, status: 415, name: `${label}: Content-Type text/plain`, run: (c) => c.post(c.main, path_of(c), good_body(c), { 'Content-Type': 'text/plain' }) },
    { op, status: 415, name: `${label}: Content-Encoding br (only gzip is decoded)`, run: (c) => c.post(c.main, path_of(c), good_body(c), { ...json_type, 'Content-Encoding': 'br' }) },
  ];
}

const rows = [
  { op: EVENTS, status: 201, name: 'one event of every client type', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ events: one_of_each(c.uid('all')) }), json_type),
    check: (r) => (r.json && r.json.accepted === 8 ? [] : ['expected accepted 8']) },
  { op: EVENTS, status: 201, name: 'a span event (OTLP spans that are no agent operation)', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ events: [span_event(c.uid('span'))] }), json_type) },
  { op: EVENTS, status: 201, name: 'NDJSON body', run: (c) => c.post(c.main, '/observability/events', one_of_each(c.uid('nd')).map((e) => JSON.stringify(e)).join('\n') + '\n', { 'Content-Type': 'application/x-ndjson' }) },
  { op: EVENTS, status: 201, name: 'gzip body (Content-Encoding: gzip)', run: (c) => c.post(c.main, '/observability/events', zlib.gzipSync(JSON.stringify({ events: one_of_each(c.uid('gz')) })), { ...json_type, 'Content-Encoding': 'gzip' }),
    check: (r) => (r.json && r.json.accepted === 8 ? [] : ['expected accepted 8']) },
  { op: EVENTS, status: 201, name: 'the same id and body again is a duplicate', run: async (c) => {
    const body = JSON.stringify({ events: [{ id: c.uid('dup'), run_id: c.uid('dup'), type: 'thought', payload: { text: 'a' } }] });
    await c.post(c.main, '/observability/events', body, json_type);
    return c.post(c.main, '/observability/events', body, json_type);
  }, check: (r) => (r.json && r.json.duplicates === 1 && r.json.events[0].duplicate === true ? [] : ['expected a duplicate']) },
  { op: EVENTS, status: 409, name: 'an id reused with another body', run: async (c) => {
    const id = c.uid('conf');
    await c.post(c.main, '/observability/events', JSON.stringify({ events: [{ id, run_id: id, type: 'thought', payload: { text: 'a' } }] }), json_type);
    return c.post(c.main, '/observability/events', JSON.stringify({ events: [{ id, run_id: id, type: 'thought', payload: { text: 'b' } }] }), json_type);
  } },
  { op: EVENTS, status: 422, name: 'a tool_call without arguments, and an unknown type', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ events: [
    { run_id: c.uid('v'), type: 'tool_call', payload: { tool: 't', call_id: 'c' } }, { run_id: c.uid('v'), type: 'nope', payload: {} }] }), json_type),
    check: (r) => (r.json && r.json.error.details && r.json.error.details.length >= 2 ? [] : ['expected details for both events']) },
  { op: EVENTS, status: 422, name: 'a client-sent artifact event', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ events: [
    { run_id: c.uid('a'), type: 'artifact', payload: { name: 'x', sha256: '0'.repeat(64), size: 1, content_type: 'text/plain' } }] }), json_type) },
  { op: EVENTS, status: 422, name: 'a bare event (not {"events": [...]}) is explained', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ run_id: 'r', type: 'thought', payload: { text: 'x' } }), json_type),
    check: (r) => (r.json && /\{"events"/.test(r.json.error.message) ? [] : ['the message should say the body must be {"events": [...]} (or NDJSON)']) },
  { op: EVENTS, status: 422, name: 'a ts that is no RFC 3339 time gets an example of one', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ events: [{ run_id: c.uid('ts'), type: 'thought', ts: '27/11/2026 22:04', payload: { text: 'x' } }] }), json_type),
    check: (r) => (r.json && (r.json.error.details || []).some((d) => d.path === 'ts' && /\d{4}-\d{2}-\d{2}T/.test(d.message)) ? [] : ['the ts message should show an RFC 3339 example']) },
  { op: EVENTS, status: 422, name: 'an empty batch', run: (c) => c.post(c.main, '/observability/events', JSON.stringify({ events: [] }), json_type) },
  ...json_write_rows(EVENTS, () => '/observability/events', (c) => JSON.stringify({ events: [{ run_id: c.uid('w'), type: 'thought', payload: { text: 'x' } }] }), 'events'),

  { op: RUNS, status: 201, name: 'start a run with an id', run: (c) => c.post(c.main, '/observability/runs', JSON.stringify({ id: c.uid('run'), name: 'n', agent: 'a', tags: ['x'] }), json_type) },
  { op: RUNS, status: 201, name: 'start a run without an id (a UUIDv7 is made)', run: (c) => c.post(c.main, '/observability/runs', JSON.stringify({ name: 'n', agent: 'a' }), json_type) },
  { op: RUNS, status: 200, name: 'an identical repeat', run: async (c) => {
    const body = JSON.stringify({ id: c.uid('rep'), name: 'n', agent: 'a' });
    await c.post(c.main, '/observability/runs', body, json_type);
    return c.post(c.main, '/observability/runs', body, json_type);
  } },
  { op: RUNS, status: 409, name: 'the same run id with another body', run: async (c) => {
    const id = c.uid('rc');
    await c.post(c.main, '/observability/runs', JSON.stringify({ id, name: 'n', agent: 'a' }), json_type);
    return c.post(c.main, '/observability/runs', JSON.stringify({ id, name: 'other', agent: 'a' }), json_type);
  } },
  { op: RUNS, status: 422, name: 'no agent, a bad id', run: (c) => c.post(c.main, '/observability/runs', JSON.stringify({ id: 'bad id', name: 'n' }), json_type) },
  ...json_write_rows(RUNS, () => '/observability/runs', () => JSON.stringify({ name: 'n', agent: 'a' }), 'runs'),

  { op: STEPS, status: 201, name: 'one step', run: (c) => c.post(c.main, `/observability/runs/${c.uid('st')}/steps`, JSON.stringify({ type: 'thought', payload: { text: 'x' } }), json_type) },
  { op: STEPS, status: 201, name: '{"steps": [...]}', run: (c) => c.post(c.main, `/observability/runs/${c.uid('st')}/steps`, JSON.stringify({ steps: [{ type: 'thought', payload: { text: 'x' } }, { type: 'log', payload: { level: 'info', message: 'm' } }] }), json_type) },
  { op: STEPS, status: 400, name: 'a run id in the path that is no id', run: (c) => c.post(c.main, '/observability/runs/bad%20id/steps', JSON.stringify({ type: 'thought', payload: { text: 'x' } }), json_type) },
  { op: STEPS, status: 409, name: 'a step id reused with another body', run: async (c) => {
    const run = c.uid('sc');
    await c.post(c.main, `/observability/runs/${run}/steps`, JSON.stringify({ id: `${run}.s`, type: 'thought', payload: { text: 'a' } }), json_type);
    return c.post(c.main, `/observability/runs/${run}/steps`, JSON.stringify({ id: `${run}.s`, type: 'thought', payload: { text: 'b' } }), json_type);
  } },
  { op: STEPS, status: 422, name: 'a run_id that is not the path\'s', run: (c) => c.post(c.main, `/observability/runs/${c.uid('sv')}/steps`, JSON.stringify({ run_id: 'other', type: 'thought', payload: { text: 'x' } }), json_type) },
  ...json_write_rows(STEPS, (c) => `/observability/runs/${c.uid('sw')}/steps`, () => JSON.stringify({ type: 'thought', payload: { text: 'x' } }), 'steps'),

  { op: FINISH, status: 200, name: 'finish a started run', run: async (c) => {
    const id = c.uid('fin');
    await c.post(c.main, '/observability/runs', JSON.stringify({ id, name: 'n', agent: 'a' }), json_type);
    return c.post(c.main, `/observability/runs/${id}/finish`, JSON.stringify({ status: 'succeeded', summary: 's' }), json_type);
  }, check: (r) => (r.json && r.json.status === 'succeeded' && r.json.ended_at ? [] : ['expected a succeeded run']) },
  { op: FINISH, status: 404, name: 'finish an unknown run', run: (c) => c.post(c.main, `/observability/runs/${c.uid('nofin')}/finish`, JSON.stringify({ status: 'succeeded' }), json_type) },
  { op: FINISH, status: 409, name: 'finish again with another status', run: async (c) => {
    const id = c.uid('fc');
    await c.post(c.main, '/observability/runs', JSON.stringify({ id, name: 'n', agent: 'a' }), json_type);
    await c.post(c.main, `/observability/runs/${id}/finish`, JSON.stringify({ status: 'succeeded' }), json_type);
    return c.post(c.main, `/observability/runs/${id}/finish`, JSON.stringify({ status: 'failed' }), json_type);
  } },
  { op: FINISH, status: 422, name: 'a status that is not one', run: async (c) => {
    const id = c.uid('fv');
    await c.post(c.main, '/observability/runs', JSON.stringify({ id, name: 'n', agent: 'a' }), json_type);
    return c.post(c.main, `/observability/runs/${id}/finish`, JSON.stringify({ status: 'done' }), json_type);
  } },
  ...json_write_rows(FINISH, (c) => `/observability/runs/${c.uid('fw')}/finish`, () => JSON.stringify({ status: 'succeeded' }), 'finish'),

  { op: PUT_ART, status: 201, name: 'upload bytes with X-Step-Id', run: (c) => c.req(c.main, 'PUT', `/observability/runs/${c.uid('art')}/artifacts/notes.txt`, { headers: { 'Content-Type': 'text/plain', 'X-Step-Id': 's1' }, body: 'hello' }) },
  { op: PUT_ART, status: 400, name: 'a name that is ".."', run: (c) => c.req(c.main, 'PUT', `/observability/runs/${c.uid('art')}/artifacts/%2E%2E`, { body: 'x' }) },
  { op: PUT_ART, status: 400, name: 'an X-Step-Id that is no id', run: (c) => c.req(c.main, 'PUT', `/observability/runs/${c.uid('art')}/artifacts/a.txt`, { headers: { 'X-Step-Id': 'no way' }, body: 'x' }) },
  { op: PUT_ART, status: 413, name: 'over the artifact limit', run: (c) => c.req(c.main, 'PUT', `/observability/runs/${c.uid('art')}/artifacts/big.bin`, { body: Buffer.alloc(80 * 1024) }) },
];

module.exports = { rows, one_of_each, many_thoughts, json_type };
