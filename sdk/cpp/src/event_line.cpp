// Checking and encoding one logged event; see event_line.hpp.
#include "event_line.hpp"

#include "domain/artifact_name.hpp"
#include "domain/event.hpp"
#include "domain/time.hpp"
#include "domain/validation.hpp"

#include <boost/json/value.hpp>

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

}  // namespace

event_line make_event_line(std::string_view step_type, json::object data, const log_options& where,
                           std::int64_t now_ms) {
    // The envelope as a client would post it; decode_event checks every rule.
    // Without a given id decode_event makes the UUIDv7 itself and skips the
    // canonical hash, the costly part of a resendable id's check.
    json::object envelope;
    envelope.reserve(7);
    if (!where.run_id.empty()) envelope.emplace("run_id", where.run_id);
    envelope.emplace("type", step_type);
    if (where.id) envelope.emplace("id", *where.id);
    if (where.ts) envelope.emplace("ts", *where.ts);
    if (where.node) envelope.emplace("node", *where.node);
    if (where.parent_id) envelope.emplace("parent_id", *where.parent_id);
    envelope.emplace("payload", std::move(data));
    const json::value envelope_value(std::move(envelope));

    std::vector<obs::domain::violation> violations;
    auto ev = obs::domain::decode_event(envelope_value, 0, now_ms, violations);
    if (!ev) {
        auto& first = violations.front();
        throw validation_error(std::move(first.path), std::move(first.message));
    }

    event_line out;
    std::string& line = out.line;
    line.reserve(ev->payload_json.size() + ev->run_id.size() + 160);
    line.append("{\"id\":\"").append(ev->id);  // ids are [A-Za-z0-9._:-]: no escaping
    line.append("\",\"run_id\":\"").append(ev->run_id);
    line.append("\",\"type\":\"").append(obs::domain::to_string(ev->type));
    line.append("\",\"ts\":\"");
    obs::domain::append_rfc3339_ms(line, ev->ts_ms);
    line.push_back('"');
    if (ev->node) {
        line.append(",\"node\":");
        obs::domain::append_json_string(line, *ev->node);
    }
    if (ev->parent_id) line.append(",\"parent_id\":\"").append(*ev->parent_id).push_back('"');
    line.append(",\"payload\":").append(ev->payload_json);
    line.append("}\n");

    if (!obs::domain::is_valid_utf8(line)) {
        auto path = invalid_utf8_path(envelope_value, "");
        throw validation_error(path.value_or(""), "must be valid UTF-8");
    }
    if (line.size() > max_event_line_bytes)
        throw validation_error("", "the event is larger than a request body may be (4 MiB)");
    out.id = std::move(ev->id);
    out.run_id = std::move(ev->run_id);
    return out;
}

}  // namespace detail
}  // namespace observability
