// Decodes an OTLP ExportTraceServiceRequest from its protobuf encoding
// (opentelemetry/proto/collector/trace/v1/trace_service.proto and the
// trace, resource and common messages it uses) into trace_data.hpp's model.
#pragma once

#include "server/otlp/decode_support.hpp"
#include "server/otlp/trace_data.hpp"

#include <boost/json/storage_ptr.hpp>

#include <string_view>

namespace obs::otlp {

// The spans of `body`, or why it is undecodable: truncated input, a known
// field with the wrong wire type, a string that is not UTF-8, nesting or
// counts over trace_data.hpp's bounds. Unknown fields are skipped, as OTLP
// requires of receivers. The result does not point into `body`; its JSON
// (attributes) lives in `storage` (default: the heap), which must outlive it.
decode_result<trace_request> decode_protobuf(std::string_view body, boost::json::storage_ptr storage = {});

}  // namespace obs::otlp
