// OTLP/HTTP trace ingest without any HTTP: what POST /v1/traces does with a
// body once the route has checked the key, the size and the gzip. The route
// handler calls encoding_of (415 when nullopt), decode_and_map (400 with the
// message on an error), hands the events to the writer, and answers 200
// with encode_response in the request's encoding.
#pragma once

#include "server/otlp/decode_support.hpp"
#include "server/otlp/span_mapper.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obs::otlp {

enum class encoding { json, protobuf };

// The encoding a Content-Type names: application/json or
// application/x-protobuf (parameters such as charset ignored, names
// case-insensitive); nullopt for any other type.
std::optional<encoding> encoding_of(std::string_view content_type);

// The response's Content-Type for `enc`.
std::string_view content_type_of(encoding enc);

// Decodes `body` (already gunzipped) in `enc` and maps its spans onto events
// (span_mapper.hpp). An error means the body is undecodable: answer 400 with
// its message. A decodable body always gives a result, possibly with
// rejected spans (still a 200 with partial_success). `now_ms` is the
// receive time.
decode_result<export_result> decode_and_map(std::string_view body, encoding enc, std::int64_t now_ms);

// The ExportTraceServiceResponse body for `result` in `enc`: partial_success
// with rejected_spans and error_message when a span was rejected, else an
// empty message ("{}" in JSON, zero bytes in protobuf), as the OTLP
// specification says a fully accepted request is answered.
std::string encode_response(const export_result& result, encoding enc);

}  // namespace obs::otlp
