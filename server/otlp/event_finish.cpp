// A mapped event made into a domain::event (see event_finish.hpp).
//
// The payload's compact text is written in one walk (append_compact), its
// bytes those json::serialize writes: strings as domain::append_json_string
// escapes them (after a quick scan for the first byte to escape), numbers
// as Boost.JSON formats them.
#include "server/otlp/event_finish.hpp"

#include "domain/payload_rules.hpp"
#include "domain/time.hpp"
#include "server/otlp/payload_check.hpp"
#include "server/otlp/text_out.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <span>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace obs::otlp {

namespace json = boost::json;

namespace {

// The length of the prefix of `s` that JSON escaping leaves as it is: no
// byte below 0x20, no quote, no backslash. Most strings have no such byte
// and are short (keys, names, ids: a mapped span writes about fifteen), so
// the check takes sixteen bytes at a time and the last, partial block as a
// whole too, where SSE2 is (every x86-64); a byte loop elsewhere.
#if defined(__SSE2__)
// The positions in the 16 bytes at `p` that need escaping, as a bit mask.
unsigned escape_mask(const char* p) {
    const __m128i below_space = _mm_set1_epi8(0x1f);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // max(v, 0x1f) == 0x1f exactly for the bytes 0x00-0x1f (unsigned).
    const __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, below_space), below_space),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                   _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
    return static_cast<unsigned>(_mm_movemask_epi8(hits));
}

std::size_t plain_prefix(std::string_view s) {
    std::size_t i = 0;
    for (; i + 16 <= s.size(); i += 16)
        if (const unsigned mask = escape_mask(s.data() + i); mask != 0)
            return i + static_cast<std::size_t>(std::countr_zero(mask));
    if (i == s.size()) return i;
    // The rest, fewer than 16 bytes: copied into a block padded with bytes
    // that need no escaping (reading 16 bytes from `s` could pass its end).
    char block[16];
    std::memset(block, 'a', sizeof block);
    std::memcpy(block, s.data() + i, s.size() - i);
    const unsigned mask = escape_mask(block);
    return mask == 0 ? s.size() : i + static_cast<std::size_t>(std::countr_zero(mask));
}
#else
std::size_t plain_prefix(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == '"' || c == '\\') break;
        ++i;
    }
    return i;
}
#endif

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

// The text of a scalar.
void append_scalar(text_out& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::string: append_string(out, v.get_string()); return;
    case json::kind::int64: append_integer(out, v.get_int64()); return;
    case json::kind::uint64: append_integer(out, v.get_uint64()); return;
    case json::kind::bool_: out.put(v.get_bool() ? "true" : "false"); return;
    case json::kind::null: out.put("null"); return;
    case json::kind::double_: out.put(json::serialize(v)); return;
    case json::kind::object:
    case json::kind::array: return;  // not scalars: append_compact writes them
    }
}

// Appends the compact text of `v`, json::serialize's bytes, to `out`.
void append_compact(text_out& out, const json::value& v) {
    switch (v.kind()) {
    case json::kind::object: {
        out.put('{');
        bool first = true;
        for (const auto& kv : v.get_object()) {
            if (!first) out.put(',');
            first = false;
            append_string(out, kv.key());
            out.put(':');
            append_compact(out, kv.value());
        }
        out.put('}');
        return;
    }
    case json::kind::array: {
        out.put('[');
        bool first = true;
        for (const auto& item : v.get_array()) {
            if (!first) out.put(',');
            first = false;
            append_compact(out, item);
        }
        out.put(']');
        return;
    }
    default: append_scalar(out, v); return;
    }
}

// True when decode_event would find no fault in the envelope of `d`: then
// only the payload needs checking.
bool envelope_keeps_rules(const event_draft& d) {
    return (d.ids_checked || (valid_id(d.id) && valid_id(d.run_id) && (!d.parent_id || valid_id(*d.parent_id)))) &&
           (!d.node || d.node->size() <= domain::max_node_length) && d.ts_ms >= 0 &&
           d.ts_ms < domain::rfc3339_ms_limit && d.type != domain::event_type::artifact && d.payload.is_object();
}

}  // namespace

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
    ev.payload_json.reserve(256);
    {
        text_out payload(ev.payload_json);
        append_compact(payload, d.payload);
    }
    ev.facts = domain::detail::facts_of(d.type, d.payload.get_object());
    ev.id = std::move(d.id);
    ev.id_given = true;
    ev.run_id = std::move(d.run_id);
    ev.type = d.type;
    ev.ts_ms = d.ts_ms;
    ev.ts_given = true;
    ev.received_ms = now_ms;
    ev.node = std::move(d.node);
    ev.parent_id = std::move(d.parent_id);
    return ev;
}

}  // namespace obs::otlp
