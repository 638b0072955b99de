// A mapped event made into a domain::event (see event_finish.hpp).
//
// The canonical text is the one domain/fingerprint.cpp writes for the event
// object: its members sorted by key. The envelope's keys sort as id, node,
// parent_id, payload, run_id, ts, type, so they are written in that order
// directly; only the payload's objects are sorted, each in a small array on
// the stack when it has few members (most have fewer than 16). Strings are
// domain::append_json_string's bytes (its escaping, after a quick scan for
// the first byte to escape) and numbers Boost.JSON's text, as there, so
// equal events give equal bytes. The payload text is written by
// the same walk in the object's own order (append_compact), which is
// json::serialize's text.
#include "server/otlp/event_finish.hpp"

#include "domain/payload_rules.hpp"
#include "domain/sha256.hpp"
#include "domain/time.hpp"
#include "server/otlp/payload_check.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <span>

namespace obs::otlp {

namespace json = boost::json;

namespace {

using member = const json::key_value_pair*;

// The length of the prefix of `s` that JSON escaping leaves as it is: no
// byte below 0x20, no quote, no backslash. Eight bytes at a time: most
// strings have no such byte at all.
std::size_t plain_prefix(std::string_view s) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const auto has_zero_byte = [](std::uint64_t x) { return ((x - ones) & ~x & highs) != 0; };
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        // A byte below 0x20 is one whose top three bits are clear.
        const bool control = has_zero_byte(w & (0xe0 * ones));
        if (control || has_zero_byte(w ^ ('"' * ones)) || has_zero_byte(w ^ ('\\' * ones))) break;
    }
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == '"' || c == '\\') break;
        ++i;
    }
    return i;
}

// domain::append_json_string's bytes: the plain prefix copied at once, the
// rest (from the first byte to escape) through domain::append_json_escaped.
void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    const std::size_t plain = plain_prefix(s);
    out.append(s.data(), plain);
    if (plain < s.size()) domain::append_json_escaped(out, s.substr(plain));
    out.push_back('"');
}

// domain::is_valid_id (1 to 128 bytes of [A-Za-z0-9._:-]) by a table.
constexpr std::array<bool, 256> id_bytes = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
        t[static_cast<std::size_t>(c)] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                         c == '.' || c == '_' || c == ':' || c == '-';
    return t;
}();
bool valid_id(std::string_view s) {
    if (s.empty() || s.size() > domain::max_id_length) return false;
    for (const char c : s)
        if (!id_bytes[static_cast<unsigned char>(c)]) return false;
    return true;
}

void append_sorted_members(std::string& out, std::span<member> members) {
    std::sort(members.begin(), members.end(),
              [](member a, member b) { return std::string_view(a->key()) < std::string_view(b->key()); });
    out.push_back('{');
    bool first = true;
    for (const member m : members) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, m->key());
        out.push_back(':');
        append_canonical(out, m->value());
    }
    out.push_back('}');
}

void append_object(std::string& out, const json::object& o) {
    constexpr std::size_t on_stack = 16;
    if (o.size() <= on_stack) {
        std::array<member, on_stack> members;
        std::size_t n = 0;
        for (const auto& kv : o) members[n++] = &kv;
        append_sorted_members(out, std::span<member>(members.data(), n));
        return;
    }
    std::vector<member> members;
    members.reserve(o.size());
    for (const auto& kv : o) members.push_back(&kv);
    append_sorted_members(out, members);
}

template <class Integer>
void append_integer(std::string& out, Integer n) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, n);
    out.append(digits, r.ptr);
}

// `[a,b,...]`, each item written by `write_item(out, item)`.
template <class WriteItem>
void append_array(std::string& out, const json::array& items, WriteItem write_item) {
    out.push_back('[');
    bool first = true;
    for (const auto& item : items) {
        if (!first) out.push_back(',');
        first = false;
        write_item(out, item);
    }
    out.push_back(']');
}

// Compact JSON in the object's own key order: json::serialize's text, byte
// for byte (the same string escapes, integers in decimal, doubles by
// Boost.JSON itself), without its serializer's per-call state and buffer.
void append_compact(std::string& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::object: {
        out.push_back('{');
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) out.push_back(',');
            first = false;
            append_string(out, kv.key());
            out.push_back(':');
            append_compact(out, kv.value());
        }
        out.push_back('}');
        return;
    }
    case json::kind::array: append_array(out, v.get_array(), append_compact); return;
    default: append_canonical(out, v); return;  // a scalar: the same text either way
    }
}

void append_key(std::string& out, std::string_view key_with_quotes_and_colon, std::string_view text) {
    out.append(key_with_quotes_and_colon);
    append_string(out, text);
}

// True when decode_event would find no fault in the envelope of `d`: then
// only the payload needs checking.
bool envelope_keeps_rules(const event_draft& d) {
    return valid_id(d.id) && valid_id(d.run_id) && (!d.parent_id || valid_id(*d.parent_id)) &&
           (!d.node || d.node->size() <= domain::max_node_length) && d.ts_ms >= 0 &&
           d.ts_ms < domain::rfc3339_ms_limit && d.type != domain::event_type::artifact && d.payload.is_object();
}

std::string fingerprint_of(const event_draft& d) {
    // One buffer per thread, kept: the canonical text is only hashed.
    thread_local std::string canonical;
    canonical.clear();
    append_key(canonical, "{\"id\":", d.id);
    if (d.node) append_key(canonical, ",\"node\":", *d.node);
    if (d.parent_id) append_key(canonical, ",\"parent_id\":", *d.parent_id);
    canonical.append(",\"payload\":");
    append_canonical(canonical, d.payload);
    append_key(canonical, ",\"run_id\":", d.run_id);
    canonical.append(",\"ts\":\"");
    domain::append_rfc3339_ms(canonical, d.ts_ms);
    canonical.append("\"");
    append_key(canonical, ",\"type\":", domain::to_string(d.type));
    canonical.push_back('}');
    return domain::sha256_hex(canonical);
}

}  // namespace

void append_canonical(std::string& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::object: append_object(out, v.get_object()); return;
    case json::kind::array: append_array(out, v.get_array(), append_canonical); return;
    case json::kind::string: append_string(out, v.get_string()); return;
    case json::kind::int64: append_integer(out, v.get_int64()); return;
    case json::kind::uint64: append_integer(out, v.get_uint64()); return;
    case json::kind::bool_: out.append(v.get_bool() ? "true" : "false"); return;
    case json::kind::null: out.append("null"); return;
    case json::kind::double_: out.append(json::serialize(v)); return;
    }
}

json::object envelope_object(const event_draft& d, json::storage_ptr sp) {
    json::object e(std::move(sp));
    e["id"] = d.id;
    e["run_id"] = d.run_id;
    e["type"] = domain::to_string(d.type);
    // A time outside years 0000-9999 has no RFC 3339 text: the number goes
    // in as it is, and decode_event refuses it with its own message.
    if (d.ts_ms >= 0 && d.ts_ms < domain::rfc3339_ms_limit) e["ts"] = domain::format_rfc3339_ms(d.ts_ms);
    else e["ts"] = d.ts_ms;
    if (d.node) e["node"] = *d.node;
    if (d.parent_id) e["parent_id"] = *d.parent_id;
    e["payload"] = d.payload;
    return e;
}

std::optional<domain::event> finish_event(event_draft& d, std::int64_t now_ms, std::vector<domain::violation>& out) {
    if (!envelope_keeps_rules(d)) {
        const json::value object(envelope_object(d, d.payload.storage()));
        return domain::decode_event(object, 0, now_ms, out);
    }
    if (!payload_surely_valid(d.type, d.payload.get_object())) {
        const std::size_t before = out.size();
        domain::validate_payload(d.type, d.payload, 0, out);
        if (out.size() != before) return std::nullopt;
    }
    domain::event ev;
    ev.fingerprint = fingerprint_of(d);
    ev.payload_json.reserve(256);
    append_compact(ev.payload_json, d.payload);
    ev.facts = domain::detail::facts_of(d.type, d.payload.get_object());
    ev.id = std::move(d.id);
    ev.id_given = true;
    ev.run_id = std::move(d.run_id);
    ev.type = d.type;
    ev.ts_ms = d.ts_ms;
    ev.received_ms = now_ms;
    ev.node = std::move(d.node);
    ev.parent_id = std::move(d.parent_id);
    return ev;
}

}  // namespace obs::otlp
