// obs_otlp_bench_body: the request body of scripts/bench-ingest's OTLP phase
// (spans/s through POST /v1/traces, protobuf, batches as the batch span
// processor sends them). Writes one ExportTraceServiceRequest of --spans
// spans of one agent trace: an invoke_agent root and, under it, repeating
// chat (tokens, model, prompt), execute_tool (arguments, result) and plain
// HTTP client spans with their usual attributes. Every span carries the
// 16-byte trace id "OBSBENCHTRACEIDX" as a marker: bench_otlp.lua replaces
// it per request, so each request is a new trace and stores new events.
//
//   obs_otlp_bench_body --spans 512 --out FILE
//       prints "spans=N events=E bytes=B": E events are stored per request
//   obs_otlp_bench_body --spans 512 --measure SECONDS
//       for reference, decode_and_map alone (no HTTP, no SQLite) on this
//       core for SECONDS: prints "decode_and_map spans/s=... MB/s=..."
#include "server/otlp/otlp.hpp"
#include "tests/otlp/otlp_builder.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace obs::otlp::testing;

namespace {

constexpr std::string_view marker = "OBSBENCHTRACEIDX";

// The marker as hex text, as the builder takes ids.
std::string to_hex_marker() {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (const char c : marker) {
        hex.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        hex.push_back(digits[static_cast<unsigned char>(c) & 15]);
    }
    return hex;
}

std::string span_id(std::size_t n) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016zx", n + 1);
    return hex;
}

std::string bench_body(std::size_t spans) {
    const std::string trace = to_hex_marker();
    std::vector<std::string> encoded;
    const std::uint64_t t0 = 1'790'000'000'000'000'000ull;
    span_spec root{trace, span_id(0), "", "invoke_agent bench-agent", 1, t0, t0 + 9'000'000'000ull,
                   {kv_string("gen_ai.operation.name", "invoke_agent"), kv_string("gen_ai.agent.name", "bench-agent")},
                   {}, 1, ""};
    encoded.push_back(encode_span(root));
    for (std::size_t i = 1; i < spans; ++i) {
        const std::uint64_t start = t0 + i * 10'000'000ull;
        span_spec s{trace, span_id(i), span_id(0), "", 1, start, start + 7'000'000ull, {}, {}, 0, ""};
        switch (i % 3) {
        case 1:
            s.name = "chat gpt-4o";
            s.kind = 3;
            s.attributes = {kv_string("gen_ai.operation.name", "chat"), kv_string("gen_ai.provider.name", "openai"),
                            kv_string("gen_ai.request.model", "gpt-4o"),
                            kv_string("gen_ai.response.model", "gpt-4o-2024-08-06"),
                            kv_int("gen_ai.usage.input_tokens", 812), kv_int("gen_ai.usage.output_tokens", 96),
                            kv_string("gen_ai.input.messages",
                                      R"([{"role":"user","parts":[{"type":"text","content":"Which gear ratio?"}]}])")};
            break;
        case 2:
            s.name = "execute_tool web_search";
            s.attributes = {kv_string("gen_ai.operation.name", "execute_tool"), kv_string("gen_ai.tool.name", "web_search"),
                            kv_string("gen_ai.tool.call.id", "call_" + std::to_string(i)),
                            kv_string("gen_ai.tool.call.arguments", R"({"q":"gear ratio 40/16","k":5})"),
                            kv_string("gen_ai.tool.call.result", R"({"hits":3})")};
            break;
        default:
            s.name = "GET";
            s.kind = 3;
            s.attributes = {kv_string("http.request.method", "GET"), kv_string("url.full", "https://search.example/?q=gear"),
                            kv_int("http.response.status_code", 200), kv_string("server.address", "search.example")};
        }
        encoded.push_back(encode_span(s));
    }
    return encode_request({kv_string("service.name", "bench-agent-svc"), kv_string("service.instance.id", "bench-1")},
                          encoded);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t spans = 512;
    std::string out;
    double measure = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        if (flag == "--spans") spans = std::strtoul(argv[i + 1], nullptr, 10);
        else if (flag == "--out") out = argv[i + 1];
        else if (flag == "--measure") measure = std::atof(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: obs_otlp_bench_body --spans N (--out FILE | --measure SECONDS)\n");
            return 2;
        }
    }
    if (spans < 1 || spans > obs::otlp::max_spans_per_request || (out.empty() && measure <= 0)) {
        std::fprintf(stderr, "usage: obs_otlp_bench_body --spans 1..8192 (--out FILE | --measure SECONDS)\n");
        return 2;
    }
    std::string body = bench_body(spans);
    const auto mapped = obs::otlp::decode_and_map(body, obs::otlp::encoding::protobuf, 1'790'000'000'000);
    if (!mapped || mapped->rejected_spans != 0) {
        std::fprintf(stderr, "obs_otlp_bench_body: the body does not map cleanly\n");
        return 1;
    }
    if (!out.empty()) {
        std::ofstream(out, std::ios::binary) << body;
        std::printf("spans=%zu events=%zu bytes=%zu\n", spans, mapped->events.size(), body.size());
        return 0;
    }
    // Each round gets another trace id, as the wrk script does.
    std::size_t rounds = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
        std::string unique = body;
        char id[17];
        std::snprintf(id, sizeof id, "%016zx", rounds);
        for (std::size_t at = unique.find(marker); at != std::string::npos; at = unique.find(marker, at + 16))
            unique.replace(at, 16, id, 16);
        const auto r = obs::otlp::decode_and_map(unique, obs::otlp::encoding::protobuf, 1'790'000'000'000);
        if (!r || r->accepted_spans != spans) return 1;
        ++rounds;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < measure);
    std::printf("decode_and_map spans/s=%.0f events/s=%.0f MB/s=%.1f (%zu requests of %zu spans)\n",
                rounds * spans / elapsed, rounds * mapped->events.size() / elapsed,
                rounds * body.size() / elapsed / 1e6, rounds, spans);
    return 0;
}
