// Decodes an OTLP ExportTraceServiceRequest from the OTLP/JSON encoding
// (Protobuf's JSON mapping with OTLP's exceptions: trace and span ids as hex
// text, enums as numbers) into trace_data.hpp's model.
#pragma once

#include "server/otlp/decode_support.hpp"
#include "server/otlp/trace_data.hpp"

#include <string_view>

namespace obs::otlp {

// The spans of `body`, or why it is undecodable: not JSON (or not UTF-8), a
// known field of the wrong JSON type, an int64 that is not an integer,
// bytes that are not base64, nesting or counts over trace_data.hpp's bounds.
// Field names are accepted in lowerCamelCase and in the .proto's snake_case,
// as Protobuf JSON parsers do; unknown fields are ignored, as OTLP requires.
// int64/uint64 fields take a number or a decimal string; enums a number or
// the enum value's name ("SPAN_KIND_CLIENT", "STATUS_CODE_ERROR").
decode_result<trace_request> decode_json(std::string_view body);

}  // namespace obs::otlp
