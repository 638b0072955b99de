// Event-type names, identifiers, and the JSON encoding of a stored event.
// encode_stored_event runs once per event on the stream and read paths, so
// it writes into one reserved string rather than building a JSON tree.
#include "domain/event.hpp"

#include "domain/time.hpp"
#include "domain/validation.hpp"

#include <array>
#include <charconv>

namespace obs::domain {

namespace {

// Wire names, indexed by the enum's value.
constexpr std::array<std::string_view, event_type_count> type_names = {
    "run_started", "run_finished", "thought", "tool_call", "tool_result",
    "llm_call",    "error",        "log",     "artifact",    "span",
};

void append_integer(std::string& out, std::int64_t value) {
    std::array<char, 24> buffer;
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    out.append(buffer.data(), result.ptr);
}

}  // namespace

// Escapes only what RFC 8259 requires, so text stays as compact as the
// client sent it; copies unescaped runs in one append each.
void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    append_json_escaped(out, s);
    out.push_back('"');
}

void append_json_escaped(std::string& out, std::string_view s) {
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::size_t run_start = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\f': out.append("\\f"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            out.append("\\u00");
            out.push_back(hex_digits[c >> 4]);
            out.push_back(hex_digits[c & 0x0f]);
        }
    }
    out.append(s.data() + run_start, s.size() - run_start);
}

void append_json_string_or_null(std::string& out, const std::optional<std::string>& s) {
    if (s)
        append_json_string(out, *s);
    else
        out.append("null");
}

std::string_view to_string(event_type type) { return type_names[static_cast<std::size_t>(type)]; }

std::optional<event_type> parse_event_type(std::string_view name) {
    for (std::size_t i = 0; i < type_names.size(); ++i)
        if (type_names[i] == name) return static_cast<event_type>(i);
    return std::nullopt;
}

bool is_valid_id(std::string_view s) {
    if (s.empty() || s.size() > max_id_length) return false;
    for (const char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == ':' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string encode_stored_event(const stored_event& ev) {
    // Fixed keys and two formatted times take about 160 bytes; the rest is
    // the variable text, so one allocation covers the whole line.
    std::string out;
    out.reserve(192 + ev.id.size() + ev.run_id.size() + ev.payload_json.size() +
                (ev.node ? ev.node->size() : 0) + (ev.parent_id ? ev.parent_id->size() : 0));
    out.append("{\"offset\":");
    append_integer(out, ev.offset);
    out.append(",\"id\":");
    append_json_string(out, ev.id);
    out.append(",\"run_id\":");
    append_json_string(out, ev.run_id);
    out.append(",\"seq\":");
    append_integer(out, ev.seq);
    out.append(",\"type\":\"");
    out.append(to_string(ev.type));
    out.append("\",\"ts\":\"");
    append_rfc3339_ms(out, ev.ts_ms);
    out.append("\",\"received_at\":\"");
    append_rfc3339_ms(out, ev.received_ms);
    out.append("\",\"node\":");
    append_json_string_or_null(out, ev.node);
    out.append(",\"parent_id\":");
    append_json_string_or_null(out, ev.parent_id);
    out.append(",\"payload\":");
    out.append(ev.payload_json);
    out.push_back('}');
    return out;
}

}  // namespace obs::domain
