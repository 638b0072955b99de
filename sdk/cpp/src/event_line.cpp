// Checking and encoding one logged event; see event_line.hpp.
#include "event_line.hpp"

#include "domain/artifact_name.hpp"
#include "domain/event.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "domain/validation.hpp"

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <cstring>
#include <optional>
#include <vector>

namespace observability {

validation_error::validation_error(std::string path, std::string message)
    : std::invalid_argument("invalid event: " + (path.empty() ? std::string("(event)") : path) + ": " + message),
      path_(std::move(path)),
      detail_(std::move(message)) {}

namespace detail {
namespace {

namespace json = boost::json;

// The path of the first key or string under `v` that is not UTF-8. Boost.JSON
// stores any bytes, while the server's parser refuses the whole body, so the
// SDK finds the field itself (only when the line as a whole failed the check).
std::optional<std::string> invalid_utf8_path(const json::value& v, const std::string& path) {
    if (const auto* s = v.if_string()) {
        if (!obs::domain::is_valid_utf8(*s)) return path;
    } else if (const auto* a = v.if_array()) {
        for (std::size_t i = 0; i < a->size(); ++i)
            if (auto p = invalid_utf8_path((*a)[i], path + "[" + std::to_string(i) + "]")) return p;
    } else if (const auto* o = v.if_object()) {
        for (const auto& kv : *o) {
            const std::string child = path.empty() ? std::string(kv.key()) : path + "." + std::string(kv.key());
            if (!obs::domain::is_valid_utf8(kv.key())) return child;
            if (auto p = invalid_utf8_path(kv.value(), child)) return p;
        }
    }
    return std::nullopt;
}

// True when every byte is ASCII, 8 at a time: then the line is UTF-8 and
// domain's byte-by-byte check (a tenth of log()'s time) is not needed.
bool is_ascii(std::string_view s) {
    std::size_t i = 0;
    std::uint64_t high = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t word;
        std::memcpy(&word, s.data() + i, 8);
        high |= word;
    }
    for (; i < s.size(); ++i) high |= static_cast<unsigned char>(s[i]);
    return (high & 0x8080808080808080ull) == 0;
}

// The event's type when decode_event surely accepts the envelope of
// `where` around a payload that validate_payload accepts: the common call
// (no id or ts given, ids and node well formed). nullopt sends the call
// through decode_event itself, which names the broken rule. Each check is
// decode_event's own (domain's is_valid_id, parse_event_type, the node
// bound), never looser: anything else it refuses goes the full way.
std::optional<obs::domain::event_type> plain_envelope_type(std::string_view step_type, const log_options& where) {
    if (where.id || where.ts) return std::nullopt;
    if (!obs::domain::is_valid_id(where.run_id)) return std::nullopt;
    if (where.node && where.node->size() > obs::domain::max_node_length) return std::nullopt;
    if (where.parent_id && !obs::domain::is_valid_id(*where.parent_id)) return std::nullopt;
    const auto type = obs::domain::parse_event_type(step_type);
    if (!type || *type == obs::domain::event_type::artifact) return std::nullopt;
    return type;
}

// Appends the compact JSON text of `v` to `out`, as json::serialize writes
// it, without a string of its own (one allocation and copy less).
void append_serialized(std::string& out, const json::value& v) {
    thread_local json::serializer sr;
    sr.reset(&v);
    char buffer[1024];
    while (!sr.done()) out.append(sr.read(buffer, sizeof buffer));
}

// Writes the NDJSON line of a decoded event into `line` (cleared first);
// the payload is written by `payload`.
template <class payload_writer>
void write_line(std::string& line, const std::string& id, const std::string& run_id, obs::domain::event_type type,
                std::int64_t ts_ms, const std::optional<std::string>& node,
                const std::optional<std::string>& parent_id, payload_writer&& payload) {
    line.clear();
    line.append("{\"id\":\"").append(id);  // ids are [A-Za-z0-9._:-]: no escaping
    line.append("\",\"run_id\":\"").append(run_id);
    line.append("\",\"type\":\"").append(obs::domain::to_string(type));
    line.append("\",\"ts\":\"");
    obs::domain::append_rfc3339_ms(line, ts_ms);
    line.push_back('"');
    if (node) {
        line.append(",\"node\":");
        obs::domain::append_json_string(line, *node);
    }
    if (parent_id) line.append(",\"parent_id\":\"").append(*parent_id).push_back('"');
    line.append(",\"payload\":");
    payload(line);
    line.append("}\n");
}

// The last checks on an encoded line: UTF-8 (named at its field by
// `envelope`, built only then) and the size bound.
template <class envelope_maker>
void check_line(const std::string& line, envelope_maker&& envelope) {
    if (!is_ascii(line) && !obs::domain::is_valid_utf8(line)) {
        auto path = invalid_utf8_path(envelope(), "");
        throw validation_error(path.value_or(""), "must be valid UTF-8");
    }
    if (line.size() > max_event_line_bytes)
        throw validation_error("", "the event is larger than a request body may be (4 MiB)");
}

json::value envelope_of(std::string_view step_type, json::object data, const log_options& where) {
    json::object envelope;
    envelope.reserve(7);
    if (!where.run_id.empty()) envelope.emplace("run_id", where.run_id);
    envelope.emplace("type", step_type);
    if (where.id) envelope.emplace("id", *where.id);
    if (where.ts) envelope.emplace("ts", *where.ts);
    if (where.node) envelope.emplace("node", *where.node);
    if (where.parent_id) envelope.emplace("parent_id", *where.parent_id);
    envelope.emplace("payload", std::move(data));
    return json::value(std::move(envelope));
}

}  // namespace

std::string make_event_line(std::string_view step_type, json::object data, const log_options& where,
                            std::int64_t now_ms, std::string& line) {
    // The common call: the envelope is surely valid, so only the payload
    // needs domain's rules, and no envelope object is built (allocations
    // that were a third of log()'s time).
    if (const auto type = plain_envelope_type(step_type, where)) {
        json::value payload(std::move(data));
        std::vector<obs::domain::violation> violations;
        obs::domain::validate_payload(*type, payload, 0, violations);
        if (violations.empty()) {
            std::string id = obs::domain::make_uuid_v7(now_ms);
            write_line(line, id, where.run_id, *type, now_ms, where.node, where.parent_id,
                       [&](std::string& out) { append_serialized(out, payload); });
            check_line(line, [&] { return envelope_of(step_type, payload.get_object(), where); });
            return id;
        }
        data = std::move(payload.get_object());
    }
    // The envelope as a client would post it; decode_event checks every rule
    // and names the first broken one. Without a given id decode_event makes
    // the UUIDv7 itself.
    const json::value envelope_value = envelope_of(step_type, std::move(data), where);
    std::vector<obs::domain::violation> violations;
    auto ev = obs::domain::decode_event(envelope_value, 0, now_ms, violations);
    if (!ev) {
        auto& first = violations.front();
        throw validation_error(std::move(first.path), std::move(first.message));
    }
    write_line(line, ev->id, ev->run_id, ev->type, ev->ts_ms, ev->node, ev->parent_id,
               [&](std::string& out) { out.append(ev->payload_json); });
    check_line(line, [&]() -> const json::value& { return envelope_value; });
    return std::move(ev->id);
}

}  // namespace detail
}  // namespace observability
