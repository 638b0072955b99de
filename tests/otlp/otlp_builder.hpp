// Builders of OTLP protobuf messages for the tests and the benchmark load
// tool (tests/bench): KeyValue, Span, Span.Event and a whole
// ExportTraceServiceRequest, written with the server's own wire writer
// functions and the specification's field numbers. Test support only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obs::otlp::testing {

// Encoded KeyValue messages, one per kind of AnyValue.
std::string kv_string(std::string_view key, std::string_view value);
std::string kv_int(std::string_view key, std::int64_t value);
std::string kv_double(std::string_view key, double value);
std::string kv_bool(std::string_view key, bool value);
// A KeyValue whose value is an already-encoded AnyValue message.
std::string kv_any(std::string_view key, std::string_view any_value);
// AnyValue messages: a string, and containers of encoded AnyValue/KeyValue.
std::string any_string(std::string_view value);
std::string any_array(const std::vector<std::string>& values);
std::string any_kvlist(const std::vector<std::string>& key_values);

// The raw bytes of hex text ("0a1b" -> "\x0a\x1b"). REQUIRES: valid hex.
std::string hex_bytes(std::string_view hex);

struct span_spec {
    std::string trace_id;        // hex, 32 digits
    std::string span_id;         // hex, 16 digits
    std::string parent_span_id;  // hex, or empty for a root
    std::string name;
    int kind = 1;
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
    std::vector<std::string> attributes;  // encoded KeyValue messages
    std::vector<std::string> events;      // encoded Span.Event messages
    int status = 0;
    std::string status_message;
};

std::string encode_event(std::uint64_t time_ns, std::string_view name, const std::vector<std::string>& attributes);
std::string encode_span(const span_spec& s);
// One ResourceSpans with the given resource attributes and one ScopeSpans of
// `spans` (encoded Span messages), inside an ExportTraceServiceRequest.
std::string encode_request(const std::vector<std::string>& resource_attributes, const std::vector<std::string>& spans);

}  // namespace obs::otlp::testing
