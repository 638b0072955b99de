// A mapped event made into a domain::event (see event_finish.hpp).
//
// The canonical text is the one domain/fingerprint.cpp writes for the event
// object: its members sorted by key. The envelope's keys sort as id, node,
// parent_id, payload, run_id, ts, type, so they are written in that order
// directly. Strings are domain::append_json_string's bytes (its escaping,
// after a quick scan for the first byte to escape) and numbers Boost.JSON's
// text, as there, so equal events give equal bytes. The payload is walked
// once (append_both) for two texts: the stored one in the object's own
// order, which is json::serialize's text, and the canonical one, whose
// bytes are copied from it and, for an object whose keys are out of order,
// moved into key order afterwards: each string is escaped once, where
// writing the two texts apart escaped and formatted everything twice.
#include "server/otlp/event_finish.hpp"

#include "domain/payload_rules.hpp"
#include "domain/sha256.hpp"
#include "domain/time.hpp"
#include "server/otlp/payload_check.hpp"
#include "server/otlp/text_out.hpp"

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
void append_string(text_out& out, std::string_view s) {
    out.put('"');
    const std::size_t plain = plain_prefix(s);
    out.put(s.substr(0, plain));
    if (plain < s.size()) {
        thread_local std::string escaped;
        escaped.clear();
        domain::append_json_escaped(escaped, s.substr(plain));
        out.put(escaped);
    }
    out.put('"');
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

template <class Integer>
void append_integer(text_out& out, Integer n) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, n);
    out.put(std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
}

// The text of a scalar: the same in the compact and the canonical form.
void append_scalar(text_out& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::string: append_string(out, v.get_string()); return;
    case json::kind::int64: append_integer(out, v.get_int64()); return;
    case json::kind::uint64: append_integer(out, v.get_uint64()); return;
    case json::kind::bool_: out.put(v.get_bool() ? "true" : "false"); return;
    case json::kind::null: out.put("null"); return;
    case json::kind::double_: out.put(json::serialize(v)); return;
    case json::kind::object:
    case json::kind::array: return;  // not scalars: append_both writes them
    }
}

void append_both(text_out& compact, text_out& canonical, const json::value& v);

// One member of an object as append_both wrote it into the canonical text:
// its key and where its `"key":value` bytes are.
struct written_member {
    std::string_view key;
    std::size_t begin, end;
};

// Rewrites the members of one object, written into `canonical` in the
// object's order from `first_byte` on (with commas between them), in key
// order: appended sorted after them, then moved down over them. Copies
// bytes only; nothing is escaped or formatted again.
void sort_written_members(text_out& canonical, std::size_t first_byte, std::span<written_member> members) {
    std::sort(members.begin(), members.end(),
              [](const written_member& a, const written_member& b) { return a.key < b.key; });
    const std::size_t end = canonical.size();
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) canonical.put(',');
        canonical.put_own(members[i].begin, members[i].end - members[i].begin);
    }
    canonical.cut(first_byte, end - first_byte);
}

void append_object_both(text_out& compact, text_out& canonical, const json::object& o) {
    constexpr std::size_t on_stack = 16;
    std::array<written_member, on_stack> few;
    std::vector<written_member> many;
    if (o.size() > on_stack) many.resize(o.size());
    const std::span<written_member> members = o.size() > on_stack ? std::span<written_member>(many)
                                                                   : std::span<written_member>(few.data(), o.size());
    compact.put('{');
    canonical.put('{');
    const std::size_t first_byte = canonical.size();
    bool sorted = true;
    std::size_t n = 0;
    for (const auto& kv : o) {
        const std::string_view key = kv.key();
        if (n > 0) {
            compact.put(',');
            canonical.put(',');
            sorted = sorted && members[n - 1].key < key;
        }
        written_member& m = members[n++];
        m.key = key;
        m.begin = canonical.size();
        const std::size_t key_at = compact.size();
        append_string(compact, key);
        compact.put(':');
        canonical.put(compact.view(key_at));
        append_both(compact, canonical, kv.value());
        m.end = canonical.size();
    }
    if (!sorted) sort_written_members(canonical, first_byte, members);
    compact.put('}');
    canonical.put('}');
}

// Appends the compact text of `v` (append_compact's) to `compact` and its
// canonical text (append_canonical's) to `canonical` in one walk: every
// string is escaped and every number formatted once, into `compact`, and
// its bytes copied to `canonical`; an object whose keys are out of order
// has its members' canonical bytes moved into key order afterwards.
void append_both(text_out& compact, text_out& canonical, const json::value& v) {
    switch (v.kind()) {
    case json::kind::object: append_object_both(compact, canonical, v.get_object()); return;
    case json::kind::array: {
        compact.put('[');
        canonical.put('[');
        bool first = true;
        for (const auto& item : v.get_array()) {
            if (!first) {
                compact.put(',');
                canonical.put(',');
            }
            first = false;
            append_both(compact, canonical, item);
        }
        compact.put(']');
        canonical.put(']');
        return;
    }
    default: {
        const std::size_t at = compact.size();
        append_scalar(compact, v);
        canonical.put(compact.view(at));
        return;
    }
    }
}

void append_key(text_out& out, std::string_view key_with_quotes_and_colon, std::string_view text) {
    out.put(key_with_quotes_and_colon);
    append_string(out, text);
}

// append_key for a text that JSON escaping leaves as it is (a valid id or a
// type name): copied between its quotes without a scan.
void append_plain_key(text_out& out, std::string_view key_with_quotes_and_colon, std::string_view text) {
    out.put(key_with_quotes_and_colon);
    out.put('"');
    out.put(text);
    out.put('"');
}

// True when decode_event would find no fault in the envelope of `d`: then
// only the payload needs checking.
bool envelope_keeps_rules(const event_draft& d) {
    return valid_id(d.id) && valid_id(d.run_id) && (!d.parent_id || valid_id(*d.parent_id)) &&
           (!d.node || d.node->size() <= domain::max_node_length) && d.ts_ms >= 0 &&
           d.ts_ms < domain::rfc3339_ms_limit && d.type != domain::event_type::artifact && d.payload.is_object();
}

// Writes the payload text of `d` into `ev` and hashes the canonical text
// of the whole event for its fingerprint. REQUIRES: envelope_keeps_rules(d)
// (its ids need no escaping).
void write_payload_and_fingerprint(const event_draft& d, domain::event& ev) {
    // Buffers per thread, kept: the canonical text is only hashed.
    thread_local std::string canonical_room, ts;
    ts.clear();
    domain::append_rfc3339_ms(ts, d.ts_ms);
    text_out canonical(canonical_room, text_out::scratch);
    append_plain_key(canonical, "{\"id\":", d.id);
    if (d.node) append_key(canonical, ",\"node\":", *d.node);
    if (d.parent_id) append_plain_key(canonical, ",\"parent_id\":", *d.parent_id);
    canonical.put(",\"payload\":");
    ev.payload_json.reserve(256);
    {
        text_out payload(ev.payload_json);
        append_both(payload, canonical, d.payload);
    }
    append_plain_key(canonical, ",\"run_id\":", d.run_id);
    append_plain_key(canonical, ",\"ts\":", ts);
    append_plain_key(canonical, ",\"type\":", domain::to_string(d.type));
    canonical.put('}');
    ev.fingerprint = domain::sha256_hex(canonical.view(0));
}

}  // namespace

void append_canonical(std::string& out, const json::value& v) {
    std::string compact_text;
    text_out compact(compact_text), canonical(out);
    append_both(compact, canonical, v);
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
    write_payload_and_fingerprint(d, ev);
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
