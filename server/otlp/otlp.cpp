// The OTLP entry points (see otlp.hpp). The response's field numbers are
// the specification's: ExportTraceServiceResponse 1 partial_success;
// ExportTracePartialSuccess 1 rejected_spans (int64), 2 error_message.
#include "server/otlp/otlp.hpp"

#include "domain/event.hpp"
#include "server/http/header_text.hpp"
#include "server/otlp/json_decoder.hpp"
#include "server/otlp/protobuf_decoder.hpp"
#include "server/otlp/wire_reader.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/monotonic_resource.hpp>

namespace obs::otlp {

std::optional<encoding> encoding_of(std::string_view content_type) {
    const std::string_view type = server::media_type_of(content_type);
    if (boost::beast::iequals(type, "application/json")) return encoding::json;
    if (boost::beast::iequals(type, "application/x-protobuf")) return encoding::protobuf;
    return std::nullopt;
}

std::string_view content_type_of(encoding enc) {
    return enc == encoding::json ? "application/json" : "application/x-protobuf";
}

decode_result<export_result> decode_and_map(std::string_view body, encoding enc, std::int64_t now_ms) {
    // The decoded attributes live only until the mapping has copied what it
    // keeps: an arena makes building and freeing them cheap.
    boost::json::monotonic_resource arena;
    auto request = enc == encoding::json ? decode_json(body) : decode_protobuf(body, &arena);
    if (!request) return request.error();
    return map_spans(*request, now_ms);
}

std::string encode_response(const export_result& result, encoding enc) {
    const bool partial = result.rejected_spans > 0 || !result.error_message.empty();
    if (enc == encoding::json) {
        if (!partial) return "{}";
        // int64 is a decimal string in Protobuf's JSON mapping.
        std::string out = R"({"partialSuccess":{"rejectedSpans":")" + std::to_string(result.rejected_spans) + "\"";
        if (!result.error_message.empty()) {
            out += ",\"errorMessage\":";
            domain::append_json_string(out, result.error_message);
        }
        out += "}}";
        return out;
    }
    if (!partial) return {};
    std::string inner;
    if (result.rejected_spans != 0) {
        wire::append_tag(inner, 1, wire::wire_type::varint);
        wire::append_varint(inner, static_cast<std::uint64_t>(result.rejected_spans));
    }
    if (!result.error_message.empty()) wire::append_bytes_field(inner, 2, result.error_message);
    std::string out;
    wire::append_bytes_field(out, 1, inner);
    return out;
}

}  // namespace obs::otlp
