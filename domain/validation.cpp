// Decoding of events and batches against design/API.md (json_text.cpp
// parses the bodies): the envelope here, the payload by payload_rules.cpp.
// Every violation is collected (a batch
// answer names every bad field), and an event is only built once its input
// broke no rule.
//
// The parser's own nesting cap (json_text.cpp) is far above the 64-level
// rule of a payload field (payload_rules.cpp), so a deep body gets a
// violation with a path rather than a 400.
#include "domain/validation.hpp"

#include "domain/payload_rules.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

#include <boost/json/serialize.hpp>

#include <span>

namespace obs::domain {

namespace json = boost::json;
using detail::reporter;

namespace {

batch_result decode_items(std::span<const json::value> items, std::string_view count_path, std::int64_t now_ms,
                          std::optional<std::string_view> forced_run_id, batch_result result) {
    if (items.empty() || items.size() > max_batch_events) {
        result.violations.push_back(
            {0, std::string(count_path), "must have 1 to " + std::to_string(max_batch_events) + " events"});
        return result;
    }
    result.events.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto ev = decode_event(items[i], i, now_ms, result.violations, forced_run_id);
        if (ev && result.violations.empty()) result.events.push_back(std::move(*ev));
    }
    if (!result.ok()) result.events.clear();
    return result;
}

// What the envelope gave while its fields are read (decode_event's steps).
struct envelope {
    event ev;                              // the event's fields so far
    std::optional<event_type> type;        // its type, when known
    const json::value* payload = nullptr;  // the payload, not yet checked
    bool type_seen = false;
    bool run_id_seen = false;
};

void read_run_id(const json::value& value, const std::string& path, const reporter& r,
                 std::optional<std::string_view> forced_run_id, envelope& e) {
    e.run_id_seen = true;
    detail::check_id(value, path, r);
    if (!value.is_string()) return;
    e.ev.run_id = value.get_string();
    if (forced_run_id && *forced_run_id != e.ev.run_id) r.fail(path, "must match the run in the path");
}

void read_type(const json::value& value, const std::string& path, const reporter& r, envelope& e) {
    e.type_seen = true;
    if (!value.is_string()) {
        r.fail(path, "must be a string");
        return;
    }
    e.type = parse_event_type(value.get_string());
    if (!e.type)
        r.fail(path, "must be one of run_started, run_finished, thought, tool_call, tool_result, "
                     "llm_call, error, log");
    else if (*e.type == event_type::artifact)
        r.fail(path, "artifact events are written by the server only");
}

void read_ts(const json::value& value, const std::string& path, const reporter& r, envelope& e) {
    const auto* s = value.if_string();
    const auto ms = s ? parse_rfc3339(*s) : std::nullopt;
    if (!s)
        r.fail(path, "must be a string");
    else if (!ms)
        r.fail(path, "must be an RFC 3339 time such as 2026-11-27T22:04:05.123Z");
    else if (*ms < 0 || *ms >= rfc3339_ms_limit)
        r.fail(path, "must be between 1970 and 9999");
    else {
        e.ev.ts_ms = *ms;
        e.ev.ts_given = true;
    }
}

void read_node(const json::value& value, const std::string& path, const reporter& r, envelope& e) {
    const auto* s = value.if_string();
    if (!s)
        r.fail(path, "must be a string");
    else if (s->size() > max_node_length)
        r.fail(path, "must be at most " + std::to_string(max_node_length) + " bytes");
    else
        e.ev.node = std::string(*s);
}

// One envelope field, checked and kept; the payload is only located here.
void read_envelope_field(std::string_view key, const json::value& value, const reporter& r,
                         std::optional<std::string_view> forced_run_id, envelope& e) {
    const std::string path(key);
    if (key == "id") {
        detail::check_id(value, path, r);
        if (value.is_string()) e.ev.id = value.get_string();
        e.ev.id_given = true;
    } else if (key == "run_id") {
        read_run_id(value, path, r, forced_run_id, e);
    } else if (key == "type") {
        read_type(value, path, r, e);
    } else if (key == "ts") {
        read_ts(value, path, r, e);
    } else if (key == "node") {
        read_node(value, path, r, e);
    } else if (key == "parent_id") {
        detail::check_id(value, path, r);
        if (value.is_string()) e.ev.parent_id = std::string(value.get_string());
    } else if (key == "payload") {
        e.payload = &value;
    } else {
        r.fail(path, "unknown field");
    }
}

// The fields that must be there (a run id from the path may stand in for
// `run_id`), then the payload against its type's rules.
void check_required_and_payload(const reporter& r, std::optional<std::string_view> forced_run_id, envelope& e) {
    if (!e.run_id_seen) {
        if (!forced_run_id)
            r.fail("run_id", "required");
        else if (!is_valid_id(*forced_run_id))
            r.fail("run_id", std::string(detail::id_rule_message));
        else
            e.ev.run_id = *forced_run_id;
    }
    if (!e.type_seen) r.fail("type", "required");
    if (!e.payload)
        r.fail("payload", "required");
    else if (!e.payload->is_object())
        r.fail("payload", "must be an object");
    else if (e.type && *e.type != event_type::artifact)
        validate_payload(*e.type, *e.payload, r.index, r.out);
}

// The event of an envelope that broke no rule: its payload text, its run
// facts, and a fresh id when the client sent none.
// REQUIRES: check_required_and_payload added no violation.
event finish_event(envelope&& e, std::int64_t now_ms) {
    event ev = std::move(e.ev);
    ev.type = *e.type;
    ev.payload_json = json::serialize(*e.payload);
    ev.facts = detail::facts_of(ev.type, e.payload->get_object());
    if (!ev.id_given) ev.id = make_uuid_v7(now_ms);
    return ev;
}

}  // namespace

std::optional<event> decode_event(const json::value& v, std::size_t index, std::int64_t now_ms,
                                  std::vector<violation>& out, std::optional<std::string_view> forced_run_id) {
    const std::size_t violations_before = out.size();
    const reporter r{index, out};
    const auto* object = v.if_object();
    if (!object) {
        r.fail("", "must be an object");
        return std::nullopt;
    }
    envelope e;
    e.ev.received_ms = now_ms;
    e.ev.ts_ms = now_ms;
    for (const auto& kv : *object) read_envelope_field(kv.key(), kv.value(), r, forced_run_id, e);
    check_required_and_payload(r, forced_run_id, e);
    if (out.size() != violations_before) return std::nullopt;
    return finish_event(std::move(e), now_ms);
}

batch_result decode_event_batch(const json::value& body, std::int64_t now_ms) {
    batch_result result;
    const auto* object = body.if_object();
    if (!object) {
        result.violations.push_back({0, "", "must be an object"});
        return result;
    }
    const json::value* events = nullptr;
    for (const auto& kv : *object) {
        if (kv.key() == "events")
            events = &kv.value();
        else
            result.violations.push_back({0, std::string(kv.key()), "unknown field"});
    }
    if (!events) {
        result.violations.push_back({0, "events", "required"});
        return result;
    }
    const auto* array = events->if_array();
    if (!array) {
        result.violations.push_back({0, "events", "must be an array"});
        return result;
    }
    return decode_items({array->data(), array->size()}, "events", now_ms, std::nullopt, std::move(result));
}

batch_result decode_event_list(const std::vector<json::value>& items, std::int64_t now_ms,
                               std::optional<std::string_view> forced_run_id) {
    return decode_items(items, "", now_ms, forced_run_id, batch_result{});
}

json::array violations_to_json(const std::vector<violation>& v) {
    json::array details;
    details.reserve(v.size());
    for (const auto& item : v)
        details.push_back(json::object{{"index", item.index}, {"path", item.path}, {"message", item.message}});
    return details;
}

}  // namespace obs::domain
