// An OpenTelemetry-instrumented "agent" built with the real OpenTelemetry JS
// SDK (@opentelemetry/sdk-trace-base) and its real OTLP/HTTP exporters
// (exporter-trace-otlp-http for JSON, exporter-trace-otlp-proto for
// protobuf). It emits one agent trace to the URL given and prints, as one
// JSON line on stdout, the ids the test needs to find what it sent:
//
//   invoke_agent research-agent           (root, INTERNAL)
//   ├─ chat gpt-4o                        (CLIENT; 120 in / 30 out tokens)
//   ├─ execute_tool web_search            (call_1, arguments and result)
//   │  └─ GET                             (plain HTTP client span)
//   ├─ execute_tool fetch_page            (status ERROR, an exception event)
//   └─ chat gpt-4o                        (CLIENT; 200 in / 50 out tokens)
//
// Usage: node otel_agent.cjs URL [--protocol json|proto] [--processor simple|batch]
//        [--compression gzip|none] [--repeat N] [--header Name=Value]...
// --repeat N exports the same finished spans N times in all (an exporter's
// retry: the server must store nothing twice). Also usable as a module:
// require('./otel_agent.cjs').run(options) resolves to the printed object.
'use strict';
const path = require('path');
const modules = path.join(__dirname, '..', '..', 'scripts', 'node', 'node_modules');
const need = (name) => require(path.join(modules, name));

async function run({ url, protocol = 'json', processor = 'batch', compression = 'none', repeat = 1, headers = {} }) {
    const api = need('@opentelemetry/api');
    const { BasicTracerProvider, SimpleSpanProcessor, BatchSpanProcessor } = need('@opentelemetry/sdk-trace-base');
    const { resourceFromAttributes } = need('@opentelemetry/resources');
    const { OTLPTraceExporter } = need(protocol === 'proto' ? '@opentelemetry/exporter-trace-otlp-proto'
                                                            : '@opentelemetry/exporter-trace-otlp-http');
    const exporter = new OTLPTraceExporter({ url, headers, compression, timeoutMillis: 10000 });
    const finished = [];
    const collector = { // keeps the finished spans so --repeat can export them again
        onStart() {}, onEnd(span) { finished.push(span); },
        forceFlush() { return Promise.resolve(); }, shutdown() { return Promise.resolve(); },
    };
    const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'research-agent-svc', 'service.instance.id': 'worker-7' }),
        spanProcessors: [collector, processor === 'simple' ? new SimpleSpanProcessor(exporter)
                                                           : new BatchSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer('otel-agent-test', '1.0.0');
    const child = (parent, name, options) => tracer.startSpan(name, options, api.trace.setSpan(api.context.active(), parent));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

    const root = tracer.startSpan('invoke_agent research-agent', { kind: api.SpanKind.INTERNAL, attributes: {
        'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'research-agent', 'gen_ai.agent.id': 'agent-42',
        'gen_ai.provider.name': 'openai' } });
    const chat = (input, output, question) => {
        const s = child(root, 'chat gpt-4o', { kind: api.SpanKind.CLIENT, attributes: {
            'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o',
            'gen_ai.response.model': 'gpt-4o-2024-08-06', 'gen_ai.usage.input_tokens': input,
            'gen_ai.usage.output_tokens': output,
            'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: question }] }]) } });
        return s;
    };
    const chat1 = chat(120, 30, 'What gear ratio does a 40/16 drive give?');
    await sleep(5);
    chat1.end();
    const search = child(root, 'execute_tool web_search', { kind: api.SpanKind.INTERNAL, attributes: {
        'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'gen_ai.tool.call.id': 'call_1',
        'gen_ai.tool.call.arguments': JSON.stringify({ q: 'gear ratio 40/16' }),
        'gen_ai.tool.call.result': JSON.stringify({ hits: 3 }) } });
    const http = child(search, 'GET', { kind: api.SpanKind.CLIENT, attributes: {
        'http.request.method': 'GET', 'url.full': 'https://search.example/?q=gear', 'http.response.status_code': 200,
        'server.port': 443, 'retry.ratio': 0.5, 'http.flags': ['a', 'b'] } });
    await sleep(3);
    http.end();
    search.end();
    const fetch = child(root, 'execute_tool fetch_page', { kind: api.SpanKind.INTERNAL, attributes: {
        'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'fetch_page', 'gen_ai.tool.call.id': 'call_2',
        'gen_ai.tool.call.arguments': JSON.stringify({ url: 'https://down.example/' }) } });
    fetch.recordException(new Error('upstream unavailable'));
    fetch.setStatus({ code: api.SpanStatusCode.ERROR, message: 'HTTP 503 from down.example' });
    fetch.end();
    const chat2 = chat(200, 50, 'Summarise the answer.');
    await sleep(2);
    chat2.end();
    root.setStatus({ code: api.SpanStatusCode.OK });
    root.end();

    await provider.forceFlush();
    for (let i = 1; i < repeat; ++i) {
        await new Promise((resolve, reject) => exporter.export(finished, (r) => r.code === 0 ? resolve()
            : reject(r.error || new Error('export failed'))));
    }
    await provider.shutdown();
    const id = (s) => s.spanContext().spanId;
    return {
        trace_id: root.spanContext().traceId,
        spans: { root: id(root), chat1: id(chat1), search: id(search), http: id(http), fetch: id(fetch), chat2: id(chat2) },
        exported: finished.length * repeat,
    };
}

module.exports = { run };

if (require.main === module) {
    const args = process.argv.slice(2);
    const options = { url: args[0], headers: {} };
    for (let i = 1; i < args.length; i += 2) {
        const [flag, value] = [args[i], args[i + 1]];
        if (flag === '--protocol') options.protocol = value;
        else if (flag === '--processor') options.processor = value;
        else if (flag === '--compression') options.compression = value;
        else if (flag === '--repeat') options.repeat = Number(value);
        else if (flag === '--header') { const eq = value.indexOf('='); options.headers[value.slice(0, eq)] = value.slice(eq + 1); }
        else { console.error(`otel_agent: unknown flag ${flag}`); process.exit(2); }
    }
    if (!options.url) { console.error('usage: otel_agent.cjs URL [--protocol json|proto] ...'); process.exit(2); }
    // The exporters report failures through the diag logger, not the promise.
    const api = need('@opentelemetry/api');
    api.diag.setLogger({ error: (...a) => console.error('otel:', ...a), warn: (...a) => console.error('otel:', ...a),
                         info() {}, debug() {}, verbose() {} }, api.DiagLogLevel.WARN);
    const timer = setTimeout(() => { console.error('otel_agent: timed out'); process.exit(3); }, 30000);
    run(options).then((out) => { clearTimeout(timer); console.log(JSON.stringify(out)); })
        .catch((e) => { console.error('otel_agent:', e); process.exit(1); });
}
