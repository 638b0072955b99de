// End-to-end test of POST /v1/traces: the real server binary, real sockets,
// and the real OpenTelemetry JS SDK and exporters (otel_agent.cjs). For each
// encoding the agent trace goes in (JSON: BatchSpanProcessor, one request;
// protobuf: SimpleSpanProcessor with gzip, one request per span) with every
// span exported twice (an exporter's retry), through an ingest key given as
// OTEL_EXPORTER_OTLP_HEADERS would give it; then the run, its steps, their
// tree, tokens and the error are checked through GET /observability/runs,
// /runs/{id}, /runs/{id}/steps and the stream. Last, a table of malformed
// bodies gets 400s (or 200 with partial_success, or 401/415), and the
// server keeps serving.
// Usage: node otlp_e2e.cjs SERVER_BINARY   (exit 0 when every check passed)
'use strict';
const assert = require('assert/strict');
const { spawn, execFile } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');

const binary = process.argv[2];
const ingestKey = 'otlp-e2e-ingest-key-0001', readKey = 'otlp-e2e-read-key-00001';  // keys are >= 16 characters
const deadline = setTimeout(() => { console.error('otlp_e2e: timed out'); process.exit(3); }, 100000);

function startServer() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-otlp-e2e-'));
    const child = spawn(binary, ['--listen', '127.0.0.1:0', '--db', path.join(dir, 'otlp.db'),
                                 '--api-key', `ingest:${ingestKey}`, '--api-key', `read:${readKey}`],
                        { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Promise((resolve, reject) => {
        let text = '';
        child.stderr.on('data', (chunk) => {
            text += chunk;
            for (const line of text.split('\n')) {
                try {
                    const j = JSON.parse(line);
                    if (j.msg === 'listening') return resolve({ child, dir, port: j.port });
                } catch { /* a partial line */ }
            }
        });
        child.on('exit', (code) => reject(new Error(`server exited (${code}): ${text}`)));
    });
}

function request(port, method, urlPath, { body, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end(body);
    });
}
const read = (port, p) => request(port, 'GET', p, { headers: { Authorization: `Bearer ${readKey}` } })
    .then((r) => { assert.equal(r.status, 200, `GET ${p}: ${r.body}`); return JSON.parse(r.body); });
const post = (port, body, type, extra = {}) => request(port, 'POST', '/v1/traces',
    { body, headers: { 'Content-Type': type, Authorization: `Bearer ${ingestKey}`, ...extra } });

function runAgent(port, protocol, processor, compression) {
    return new Promise((resolve, reject) => {
        execFile(process.execPath, [path.join(__dirname, 'otel_agent.cjs'), `http://127.0.0.1:${port}/v1/traces`,
                                    '--protocol', protocol, '--processor', processor, '--compression', compression,
                                    '--repeat', '2', '--header', `Authorization=Bearer ${ingestKey}`],
                 { timeout: 40000 }, (err, stdout, stderr) => {
            if (err) return reject(new Error(`otel_agent failed: ${err.message}\n${stderr}`));
            if (stderr.includes('otel:')) return reject(new Error(`exporter reported: ${stderr}`));
            resolve(JSON.parse(stdout));
        });
    });
}

// Data frames of the stream for `runId`, replayed from the start, until `count` arrived.
function streamFrames(port, runId, count) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port,
            path: `/observability/stream?run_id=${runId}&last_event_id=0&access_token=${readKey}` }, (res) => {
            assert.equal(res.statusCode, 200);
            let text = '';
            const frames = [];
            const timer = setTimeout(() => { req.destroy(); reject(new Error(`stream: ${frames.length}/${count}`)); }, 10000);
            res.on('data', (chunk) => {
                text += chunk;
                let end;
                while ((end = text.indexOf('\n\n')) >= 0) {
                    const frame = text.slice(0, end);
                    text = text.slice(end + 2);
                    const data = frame.split('\n').find((l) => l.startsWith('data: '));
                    if (data && !frame.split('\n').some((l) => l.startsWith('event: '))) frames.push(JSON.parse(data.slice(6)));
                }
                if (frames.length >= count) { clearTimeout(timer); req.destroy(); resolve(frames); }
            });
        });
        req.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
    });
}

async function checkAgentRun(port, ids, label) {
    const runId = `otel-${ids.trace_id}`;
    const id = (span) => `otel-${ids.trace_id}-${ids.spans[span]}`;
    const run = await read(port, `/observability/runs/${runId}`);
    assert.equal(run.name, 'research-agent', label);
    assert.equal(run.agent, 'research-agent', label);
    assert.equal(run.status, 'succeeded', label);
    assert.equal(run.input_tokens, 320, label);
    assert.equal(run.output_tokens, 80, label);
    assert.equal(run.error_count, 1, label);
    assert.deepEqual(run.step_counts, { run_started: 1, llm_call: 2, tool_call: 2, tool_result: 2, span: 1,
                                        error: 1, run_finished: 1 }, label);
    const listed = await read(port, '/observability/runs?agent=research-agent&limit=500');
    assert.ok(listed.runs.some((r) => r.id === runId), `${label}: run listed`);

    const { steps } = await read(port, `/observability/runs/${runId}/steps?limit=1000`);
    assert.equal(steps.length, 10, `${label}: each span stored once although exported twice`);
    const byId = Object.fromEntries(steps.map((s) => [s.id, s]));
    const tree = {
        [id('chat1')]: ['llm_call', id('root')], [id('chat2')]: ['llm_call', id('root')],
        [id('search')]: ['tool_call', id('root')], [`${id('search')}-result`]: ['tool_result', id('search')],
        [id('http')]: ['span', id('search')], [id('fetch')]: ['tool_call', id('root')],
        [`${id('fetch')}-result`]: ['tool_result', id('fetch')], [`${id('fetch')}-exception-0`]: ['error', id('fetch')],
        [id('root')]: ['run_started', null], [`${id('root')}-end`]: ['run_finished', null],
    };
    for (const [stepId, [type, parent]] of Object.entries(tree)) {
        assert.ok(byId[stepId], `${label}: step ${stepId} stored`);
        assert.equal(byId[stepId].type, type, stepId);
        assert.equal(byId[stepId].parent_id, parent, stepId);
        assert.equal(byId[stepId].node, 'worker-7', stepId);
    }
    const error = byId[`${id('fetch')}-exception-0`].payload;
    assert.equal(error.kind, 'Error');
    assert.equal(error.message, 'upstream unavailable');
    assert.ok(error.stack.includes('otel_agent.cjs'));
    assert.equal(byId[`${id('fetch')}-result`].payload.is_error, true);
    assert.deepEqual(byId[id('search')].payload.arguments, { q: 'gear ratio 40/16' });
    assert.equal(byId[id('chat1')].payload.model, 'gpt-4o-2024-08-06');
    assert.equal(byId[id('http')].payload.attributes['http.response.status_code'], 200);

    const frames = await streamFrames(port, runId, 10);
    assert.deepEqual(frames.map((f) => f.id).sort(), steps.map((s) => s.id).sort(), `${label}: stream = steps`);
}

async function malformedTable(port) {
    const pb = fs.readFileSync(path.join(__dirname, 'fixtures', 'agent_trace.pb'));
    const spanJson = (span) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] });
    const manyAttributes = Array.from({ length: 10000 }, (_, i) => ({ key: `k${i}`, value: { intValue: i } }));
    let deep = { stringValue: 'leaf' };
    for (let i = 0; i < 40; ++i) deep = { arrayValue: { values: [deep] } };
    const good = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name: 'ok' };
    const cases = [
        ['truncated protobuf', pb.subarray(0, pb.length - 7), 'application/x-protobuf', 400],
        ['wrong wire type (resource_spans as varint)', Buffer.from([0x08, 0x03]), 'application/x-protobuf', 400],
        ['a span name as a varint', Buffer.from([0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x28, 0x01]), 'application/x-protobuf', 400],
        ['random bytes', Buffer.from([0xff, 0xff, 0xff, 0xff]), 'application/x-protobuf', 400],
        ['not JSON', '{"resourceSpans":[', 'application/json', 400],
        ['JSON spans not an array', '{"resourceSpans":[{"scopeSpans":[{"spans":7}]}]}', 'application/json', 400],
        ['10,000 attributes', spanJson({ ...good, attributes: manyAttributes }), 'application/json', 400],
        ['nested 40 deep', spanJson({ ...good, attributes: [{ key: 'd', value: deep }] }), 'application/json', 400],
        ['bad hex trace id', spanJson({ ...good, traceId: 'not-hex-at-all-not-hex-at-all-00' }), 'application/json', 200, 1],
        ['short span id', spanJson({ ...good, spanId: 'abc' }), 'application/json', 200, 1],
        ['empty protobuf request', Buffer.alloc(0), 'application/x-protobuf', 200, 0],
        ['empty JSON request', '{}', 'application/json', 200, 0],
        ['unsupported content type', '{}', 'text/plain', 415],
    ];
    for (const [name, body, type, status, rejected] of cases) {
        const r = await post(port, body, type);
        assert.equal(r.status, status, `${name}: ${r.body}`);
        if (status >= 400) {
            const e = JSON.parse(r.body);
            assert.ok(e.error && e.error.code && e.error.message, `${name}: error body ${r.body}`);
        } else if (type === 'application/json' && rejected > 0) {
            const j = JSON.parse(r.body);
            assert.equal(String(j.partialSuccess.rejectedSpans), String(rejected), name);
            assert.ok(j.partialSuccess.errorMessage.length > 0, name);
        }
    }
    const noKey = await request(port, 'POST', '/v1/traces', { body: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(noKey.status, 401);
    const gz = await post(port, zlib.gzipSync(pb), 'application/x-protobuf', { 'Content-Encoding': 'gzip' });
    assert.equal(gz.status, 200, `gzip: ${gz.body}`);
    const again = await post(port, pb, 'application/x-protobuf');
    assert.equal(again.status, 200, 'the same body again is answered, not stored');
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'agent_trace.ids.json'))).proto;
    const { steps } = await read(port, `/observability/runs/otel-${fixture.trace_id}/steps?limit=1000`);
    assert.equal(steps.length, 10, 'a body sent twice stores its events once');
    const health = await request(port, 'GET', '/healthz');
    assert.equal(health.status, 200, 'the server keeps serving');
}

async function main() {
    const { child, dir, port } = await startServer();
    try {
        const json = await runAgent(port, 'json', 'batch', 'none');
        await checkAgentRun(port, json, 'json');
        const proto = await runAgent(port, 'proto', 'simple', 'gzip');
        await checkAgentRun(port, proto, 'protobuf');
        await malformedTable(port);
        console.log('otlp_e2e: all checks passed');
    } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.on('exit', r));
        fs.rmSync(dir, { recursive: true, force: true });
        clearTimeout(deadline);
    }
}
main().catch((e) => { console.error('otlp_e2e: FAILED:', e); process.exit(1); });
