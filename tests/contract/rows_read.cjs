// Conformance rows of the read routes and the stream, on `main` (keyless);
// the stream's overload, ping and overflow rows use `busy` (one stream at
// most, 8 queued frames per listener, a 100 ms ping).
'use strict';
const fs = require('fs');
const path = require('path');
const { one_of_each, many_thoughts, json_type } = require('./rows_write.cjs');

const LIST_RUNS = 'GET /observability/runs';
const GET_RUN = 'GET /observability/runs/{run_id}';
const LIST_STEPS = 'GET /observability/runs/{run_id}/steps';
const LIST_ART = 'GET /observability/runs/{run_id}/artifacts';
const GET_ART = 'GET /observability/runs/{run_id}/artifacts/{name}';
const STREAM = 'GET /observability/stream';

// A run holding one event of every client type; its id.
async function seeded_run(c, inst = c.main) {
  const run = c.uid('seed');
  const r = await c.post(inst, '/observability/events', JSON.stringify({ events: one_of_each(run) }), json_type);
  if (r.status !== 201) throw new Error(`seeding ${run}: ${r.status} ${r.text}`);
  return run;
}

// A run with an artifact "a.txt" holding "hello world"; {run, sha256}.
async function run_with_artifact(c) {
  const run = c.uid('art');
  const r = await c.req(c.main, 'PUT', `/observability/runs/${run}/artifacts/a.txt`, { headers: { 'Content-Type': 'text/plain' }, body: 'hello world' });
  if (r.status !== 201) throw new Error(`artifact upload: ${r.status} ${r.text}`);
  return { run, sha256: JSON.parse(r.text).sha256 };
}

const frames_of_run = (run) => (frames) => frames.filter((f) => f.data && f.data.includes(`"run_id":"${run}"`));
const no_named_events = (r) => r.frames.filter((f) => f.event !== undefined && f.event !== 'overflow' && f.event !== 'rewound').map((f) => `named event frame 'event: ${f.event}'`);

const rows = [
  { op: LIST_RUNS, status: 200, name: 'every filter, then the next page by cursor', run: async (c) => {
    await seeded_run(c); await seeded_run(c);
    const first = await c.req(c.main, 'GET', '/observability/runs?limit=1&status=failed&agent=planner&tag=t&since=2020-01-01T00:00:00Z&until=2999-01-01T00:00:00.000Z');
    const cursor = JSON.parse(first.text).next_cursor;
    if (!cursor) return first;
    return c.req(c.main, 'GET', `/observability/runs?limit=1&cursor=${encodeURIComponent(cursor)}`);
  }, check: (r) => (r.json && r.json.runs.length === 1 ? [] : ['expected one run on the second page']) },
  { op: LIST_RUNS, status: 400, name: 'limit=0', run: (c) => c.req(c.main, 'GET', '/observability/runs?limit=0') },
  { op: LIST_RUNS, status: 400, name: 'an unknown query parameter', run: (c) => c.req(c.main, 'GET', '/observability/runs?colour=red') },
  { op: LIST_RUNS, status: 400, name: 'since that is no RFC 3339 time', run: (c) => c.req(c.main, 'GET', '/observability/runs?since=yesterday') },

  { op: GET_RUN, status: 200, name: 'a run with every type of event', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${await seeded_run(c)}`),
    check: (r) => (r.json && r.json.input_tokens === 10 && r.json.error_count === 1 ? [] : ['expected the totals of the seeded run']) },
  { op: GET_RUN, status: 400, name: 'an unknown query parameter', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${await seeded_run(c)}?x=1`) },
  { op: GET_RUN, status: 404, name: 'an unknown run', run: (c) => c.req(c.main, 'GET', `/observability/runs/${c.uid('none')}`) },

  { op: LIST_STEPS, status: 200, name: 'every type, a page, then after_seq', run: async (c) => {
    const run = await seeded_run(c);
    await c.post(c.main, '/observability/events', JSON.stringify({ events: [{ run_id: run, type: 'span', payload: { name: 's', status: 'error', attributes: {} } }] }), json_type);
    return c.req(c.main, 'GET', `/observability/runs/${run}/steps?after_seq=0&limit=1000`);
  }, check: (r) => (r.json && r.json.steps.length >= 8 ? [] : ['expected every stored event']) },
  { op: LIST_STEPS, status: 200, name: 'type filter (repeated and comma list) with paging', run: async (c) => {
    const run = await seeded_run(c);
    return c.req(c.main, 'GET', `/observability/runs/${run}/steps?type=thought,log&type=error&limit=2`);
  }, check: (r) => (r.json && r.json.steps.length === 2 && r.json.next_after_seq !== null ? [] : ['expected a page of 2 with next_after_seq']) },
  { op: LIST_STEPS, status: 400, name: 'an unknown type', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${await seeded_run(c)}/steps?type=nope`) },
  { op: LIST_STEPS, status: 404, name: 'an unknown run', run: (c) => c.req(c.main, 'GET', `/observability/runs/${c.uid('none')}/steps`) },

  { op: LIST_ART, status: 200, name: 'a run with an artifact', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts`),
    check: (r) => (r.json && r.json.artifacts.length === 1 ? [] : ['expected one artifact']) },
  { op: LIST_ART, status: 400, name: 'an unknown query parameter', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts?x=1`) },
  { op: LIST_ART, status: 404, name: 'an unknown run', run: (c) => c.req(c.main, 'GET', `/observability/runs/${c.uid('none')}/artifacts`) },

  { op: GET_ART, status: 200, name: 'the bytes', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts/a.txt`),
    check: (r) => (r.text === 'hello world' ? [] : ['expected the uploaded bytes']) },
  { op: GET_ART, status: 206, name: 'Range: bytes=0-4', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts/a.txt`, { headers: { Range: 'bytes=0-4' } }),
    check: (r) => (r.text === 'hello' ? [] : ['expected "hello"']) },
  { op: GET_ART, status: 304, name: 'If-None-Match with the ETag', run: async (c) => {
    const { run, sha256 } = await run_with_artifact(c);
    return c.req(c.main, 'GET', `/observability/runs/${run}/artifacts/a.txt`, { headers: { 'If-None-Match': `"${sha256}"` } });
  } },
  { op: GET_ART, status: 400, name: 'a name with a control character', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts/a%01b`) },
  { op: GET_ART, status: 404, name: 'an unknown name', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts/other.txt`) },
  { op: GET_ART, status: 416, name: 'a range past the end', run: async (c) => c.req(c.main, 'GET', `/observability/runs/${(await run_with_artifact(c)).run}/artifacts/a.txt`, { headers: { Range: 'bytes=100-200' } }) },
  { op: GET_ART, status: 500, chain: 'busy', name: 'the stored file vanished from the data directory', run: async (c) => {
    const run = c.uid('lost');
    const up = await c.req(c.busy, 'PUT', `/observability/runs/${run}/artifacts/lost.bin`, { body: `unique ${run}` });
    const sha = JSON.parse(up.text).sha256;
    fs.rmSync(path.join(c.busy.data_dir, 'artifacts', 'sha256', sha.slice(0, 2), sha));
    return c.req(c.busy, 'GET', `/observability/runs/${run}/artifacts/lost.bin`);
  }, check: (r) => (r.json && !/\//.test(r.json.error.message) ? [] : ['the message must not hold a path']) },
  { op: 'POST /observability/backup', status: 500, chain: 'busy', name: 'a backup when an artifact file vanished (after the row above)', run: (c) => c.req(c.busy, 'POST', '/observability/backup?upload=false'),
    check: (r) => (r.json && !/\//.test(r.json.error.message) ? [] : ['the message must not hold a path']) },
  { op: STREAM, status: 200, name: 'history from last_event_id=0, filtered by run and type: unnamed event frames', run: async (c) => {
    const run = await seeded_run(c);
    const types = ['run_started', 'thought', 'tool_call', 'tool_result', 'llm_call', 'error', 'log', 'run_finished'];
    return c.stream(c.main, `/observability/stream?last_event_id=0&run_id=${run}&${types.map((t) => `type=${t}`).join('&')}`, { until: (f) => frames_of_run(run)(f).length >= 8 });
  }, check: (r) => [...no_named_events(r), ...(r.frames.filter((f) => f.data && !f.event).length >= 8 ? [] : ['expected 8 event frames'])] },
  { op: STREAM, status: 200, name: 'live: an error step arrives as an unnamed frame (never "event: error")', run: (c) => {
    const run = c.uid('live');
    return c.stream(c.main, `/observability/stream?run_id=${run}`, { until: (f) => frames_of_run(run)(f).length >= 1,
      during: () => c.post(c.main, '/observability/events', JSON.stringify({ events: [{ run_id: run, type: 'error', payload: { kind: 'k', message: 'm' } }] }), json_type) });
  }, check: (r) => [...no_named_events(r), ...(r.frames.some((f) => f.data && f.data.includes('"type":"error"') && f.event === undefined) ? [] : ['the error step did not arrive unnamed'])] },
  { op: STREAM, status: 200, name: 'Last-Event-ID ahead of the log: "event: rewound", then live', run: async (c) => {
    const run = c.uid('rew');
    return c.stream(c.main, '/observability/stream', { headers: { 'Last-Event-ID': '999999999' }, timeout_ms: 2000,
      until: (f) => f.some((x) => x.event === 'rewound') && frames_of_run(run)(f).length >= 1,
      during: async () => { await new Promise((ok) => setTimeout(ok, 100)); await c.post(c.main, '/observability/events', JSON.stringify({ events: [{ run_id: run, type: 'thought', payload: { text: 'after' } }] }), json_type); } });
  }, check: (r) => {
    const rewound = r.frames.find((f) => f.event === 'rewound');
    if (!rewound) return ['no rewound control frame'];
    const after = r.frames.slice(r.frames.indexOf(rewound) + 1);
    return after.some((f) => f.data && f.data.includes('"text":"after"')) ? [] : ['no live event after rewound'];
  } },
  { op: STREAM, status: 200, chain: 'busy', name: 'a slow listener gets "event: overflow" and is closed; pings while idle', run: (c) => c.stream(c.busy, '/observability/stream', {
    timeout_ms: 3000, until: (f) => f.some((x) => x.event === 'overflow'),
    during: async () => { await new Promise((ok) => setTimeout(ok, 250)); await c.post(c.busy, '/observability/events', JSON.stringify({ events: many_thoughts(c.uid('of'), 200) }), json_type); } }),
  check: (r) => [...(r.frames.some((f) => f.comments.includes('ping')) ? [] : ['no ": ping" comment while idle']), ...(r.frames.some((f) => f.event === 'overflow') ? [] : ['no overflow frame'])] },
  { op: STREAM, status: 400, name: 'type=nope', run: (c) => c.req(c.main, 'GET', '/observability/stream?type=nope') },
  { op: STREAM, status: 503, chain: 'busy', name: 'more streams than --stream-max-subscribers', run: async (c) => {
    const first = c.stream(c.busy, '/observability/stream', { timeout_ms: 600 });
    await new Promise((ok) => setTimeout(ok, 200));
    const second = await c.req(c.busy, 'GET', '/observability/stream');
    await first;
    return second;
  } },
];

module.exports = { rows, seeded_run };
