// The spans of one OTLP ExportTraceServiceRequest as both decoders
// (protobuf_decoder, json_decoder) produce them and span_mapper reads them:
// only the fields the mapping uses, attribute lists already turned into JSON
// objects. Also the bounds every decoder enforces while it reads.
#pragma once

#include "server/otlp/id_text.hpp"

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace obs::otlp {

// Bounds of one request; a request over any of them is undecodable (400).
inline constexpr std::size_t max_spans_per_request = 8192;
inline constexpr std::size_t max_attributes_per_list = 1024;  // span, event, resource, kvlist, array entries
inline constexpr std::size_t max_events_per_span = 256;
inline constexpr std::size_t max_value_depth = 16;  // AnyValue arrays and kvlists inside each other
inline constexpr std::size_t max_values_per_request = 262144;  // every attribute value, nested ones included

// OTLP's Span.SpanKind and Status.StatusCode numbers.
enum class span_kind : int { unspecified = 0, internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };
enum class status_code : int { unset = 0, ok = 1, error = 2 };

// Attributes as a JSON object: AnyValue string/bool/int/double become the
// JSON scalar (a non-finite double becomes the string "NaN", "Infinity" or
// "-Infinity", which JSON cannot carry as a number), bytes a base64 string,
// an array a JSON array, a kvlist a JSON object, an empty AnyValue null. A
// key given twice keeps its last value.
using attribute_map = boost::json::object;

struct span_event {
    std::uint64_t time_unix_nano = 0;
    std::string name;
    attribute_map attributes;
};

struct span {
    // Ids as lower-case hex text: protobuf bytes are hex-encoded, JSON text is
    // lower-cased. Not checked here: span_mapper rejects a span whose ids are
    // not 32 (trace) and 16 (span, parent) hex digits.
    id_text trace_id;
    id_text span_id;
    id_text parent_span_id;  // empty for a root span
    std::string name;
    int kind = 0;  // a span_kind number; other numbers are kept as sent
    std::uint64_t start_time_unix_nano = 0;
    std::uint64_t end_time_unix_nano = 0;
    attribute_map attributes;
    std::vector<span_event> events;
    int status = 0;  // a status_code number
    std::string status_message;
};

// The spans of one resource (all its scopes together, in order).
struct resource_spans {
    attribute_map resource;  // the resource's attributes (service.name, ...)
    std::vector<span> spans;
};

struct trace_request {
    std::vector<resource_spans> resources;
    std::size_t span_count = 0;  // over all resources
};

}  // namespace obs::otlp
