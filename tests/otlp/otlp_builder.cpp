// The OTLP protobuf builders (see otlp_builder.hpp).
#include "tests/otlp/otlp_builder.hpp"

#include "server/otlp/wire_reader.hpp"

#include <bit>

namespace obs::otlp::testing {

using wire::append_bytes_field;
using wire::append_tag;
using wire::append_varint;
using wire::wire_type;

namespace {

void append_varint_field(std::string& out, std::uint32_t number, std::uint64_t value) {
    append_tag(out, number, wire_type::varint);
    append_varint(out, value);
}

std::string kv(std::string_view key, std::string_view any) {
    std::string out;
    append_bytes_field(out, 1, key);
    append_bytes_field(out, 2, any);
    return out;
}

}  // namespace

std::string any_string(std::string_view value) {
    std::string any;
    append_bytes_field(any, 1, value);
    return any;
}

std::string kv_string(std::string_view key, std::string_view value) { return kv(key, any_string(value)); }

std::string kv_int(std::string_view key, std::int64_t value) {
    std::string any;
    append_varint_field(any, 3, static_cast<std::uint64_t>(value));
    return kv(key, any);
}

std::string kv_double(std::string_view key, double value) {
    std::string any;
    wire::append_fixed64_field(any, 4, std::bit_cast<std::uint64_t>(value));
    return kv(key, any);
}

std::string kv_bool(std::string_view key, bool value) {
    std::string any;
    append_varint_field(any, 2, value ? 1 : 0);
    return kv(key, any);
}

std::string kv_any(std::string_view key, std::string_view any_value) { return kv(key, any_value); }

std::string any_array(const std::vector<std::string>& values) {
    std::string array;
    for (const auto& v : values) append_bytes_field(array, 1, v);
    std::string any;
    append_bytes_field(any, 5, array);
    return any;
}

std::string any_kvlist(const std::vector<std::string>& key_values) {
    std::string list;
    for (const auto& v : key_values) append_bytes_field(list, 1, v);
    std::string any;
    append_bytes_field(any, 6, list);
    return any;
}

std::string hex_bytes(std::string_view hex) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    return out;
}

std::string encode_event(std::uint64_t time_ns, std::string_view name, const std::vector<std::string>& attributes) {
    std::string out;
    wire::append_fixed64_field(out, 1, time_ns);
    append_bytes_field(out, 2, name);
    for (const auto& a : attributes) append_bytes_field(out, 3, a);
    return out;
}

std::string encode_span(const span_spec& s) {
    std::string out;
    append_bytes_field(out, 1, hex_bytes(s.trace_id));
    append_bytes_field(out, 2, hex_bytes(s.span_id));
    if (!s.parent_span_id.empty()) append_bytes_field(out, 4, hex_bytes(s.parent_span_id));
    append_bytes_field(out, 5, s.name);
    append_varint_field(out, 6, static_cast<std::uint64_t>(s.kind));
    wire::append_fixed64_field(out, 7, s.start_ns);
    wire::append_fixed64_field(out, 8, s.end_ns);
    for (const auto& a : s.attributes) append_bytes_field(out, 9, a);
    for (const auto& e : s.events) append_bytes_field(out, 11, e);
    if (s.status != 0 || !s.status_message.empty()) {
        std::string status;
        if (!s.status_message.empty()) append_bytes_field(status, 2, s.status_message);
        append_varint_field(status, 3, static_cast<std::uint64_t>(s.status));
        append_bytes_field(out, 15, status);
    }
    return out;
}

std::string encode_request(const std::vector<std::string>& resource_attributes, const std::vector<std::string>& spans) {
    std::string resource;
    for (const auto& a : resource_attributes) append_bytes_field(resource, 1, a);
    std::string scope_spans;
    for (const auto& s : spans) append_bytes_field(scope_spans, 2, s);
    std::string resource_spans;
    append_bytes_field(resource_spans, 1, resource);
    append_bytes_field(resource_spans, 2, scope_spans);
    std::string request;
    append_bytes_field(request, 1, resource_spans);
    return request;
}

}  // namespace obs::otlp::testing
