// Captures the request bodies the real OpenTelemetry JS exporters send, for
// the unit tests' fixtures: starts an HTTP server on 127.0.0.1 that answers
// every POST /v1/traces with 200 and saves its body, runs otel_agent.cjs
// against it with each protocol, and writes
//   <out>/agent_trace.json   (exporter-trace-otlp-http, one batch)
//   <out>/agent_trace.pb     (exporter-trace-otlp-proto, one batch)
//   <out>/agent_trace.ids.json  the ids each run printed, by protocol
// Usage: node capture_bodies.cjs [out-dir] (default: ./fixtures beside it).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');
const { run } = require('./otel_agent.cjs');

async function main() {
    const out = process.argv[2] || path.join(__dirname, 'fixtures');
    fs.mkdirSync(out, { recursive: true });
    let bodies = [];
    const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            bodies.push({ type: req.headers['content-type'], body: Buffer.concat(chunks) });
            const json = (req.headers['content-type'] || '').startsWith('application/json');
            res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
            res.end(json ? '{}' : '');
        });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${server.address().port}/v1/traces`;
    const ids = {};
    for (const [protocol, file] of [['json', 'agent_trace.json'], ['proto', 'agent_trace.pb']]) {
        bodies = [];
        ids[protocol] = await run({ url, protocol, processor: 'batch' });
        if (bodies.length !== 1) throw new Error(`${protocol}: expected one request, got ${bodies.length}`);
        fs.writeFileSync(path.join(out, file), bodies[0].body);
        console.log(`${file}: ${bodies[0].body.length} bytes, ${bodies[0].type}`);
    }
    fs.writeFileSync(path.join(out, 'agent_trace.ids.json'), JSON.stringify(ids, null, 2) + '\n');
    server.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
