// The probes of rule_probes.hpp. Each probe builds the smallest input that
// breaks one rule, runs domain's decoder on it, and keeps the message of the
// violation at the path the rule reports at, ignoring violations elsewhere
// (a probe event need not be valid apart from the rule it tests).
#include "sdk/rules/rule_probes.hpp"

#include "domain/artifact_name.hpp"
#include "domain/validation.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <limits>
#include <vector>

namespace obs::sdk_rules {

namespace json = boost::json;
namespace domain = obs::domain;
using domain::detail::field_kind;

namespace {

constexpr std::int64_t probe_now_ms = 1795817045123;  // any valid receive time

// The message of the only violation at `path`; throws probe_failure when
// there is none or more than one.
std::string only_message_at(const std::vector<domain::violation>& out, std::string_view path, std::string_view what) {
    std::string found;
    int hits = 0;
    for (const auto& v : out) {
        if (v.path != path) continue;
        found = v.message;
        ++hits;
    }
    if (hits != 1)
        throw probe_failure{std::string(what) + ": expected one violation at '" + std::string(path) + "', got " +
                            std::to_string(hits)};
    return found;
}

// An envelope whose every field is present but `type` is unknown, so the
// payload is not checked; probes replace or remove one field.
json::object probe_envelope() {
    return json::object{{"run_id", "r1"}, {"type", "\x01"}, {"payload", json::object{}}};
}

std::string envelope_probe(const json::value& event, std::string_view path, std::string_view what) {
    std::vector<domain::violation> out;
    domain::decode_event(event, 0, probe_now_ms, out);
    return only_message_at(out, path, what);
}

std::string envelope_with(std::string_view key, json::value value, std::string_view what) {
    json::object event = probe_envelope();
    event[key] = std::move(value);
    return envelope_probe(event, key, what);
}

std::string envelope_without(std::string_view key) {
    json::object event = probe_envelope();
    event.erase(key);
    return envelope_probe(event, key, std::string("missing ") + std::string(key));
}

std::string payload_probe(domain::event_type type, const json::object& payload, const std::string& path,
                          std::string_view what) {
    std::vector<domain::violation> out;
    domain::validate_payload(type, payload, 0, out);
    return only_message_at(out, path, what);
}

json::value nested_arrays(std::size_t levels) {
    json::value v = json::array{};
    for (std::size_t i = 1; i < levels; ++i) v = json::array{std::move(v)};
    return v;
}

json::value nested_objects(std::size_t levels) {
    json::value v = json::object{};
    for (std::size_t i = 1; i < levels; ++i) v = json::object{{"a", std::move(v)}};
    return v;
}

json::array strings(std::size_t n) {
    json::array a;
    for (std::size_t i = 0; i < n; ++i) a.emplace_back("t" + std::to_string(i));
    return a;
}

json::object string_map(std::size_t n) {
    json::object o;
    for (std::size_t i = 0; i < n; ++i) o["k" + std::to_string(i)] = "v";
    return o;
}

const std::string too_long_text(domain::max_text_length + 1, 'x');

}  // namespace

std::string_view kind_name(field_kind kind) {
    // No default: a new kind fails to compile here (-Wswitch is an error)
    // until it is named and described.
    switch (kind) {
    case field_kind::text: return "text";
    case field_kind::id: return "id";
    case field_kind::count: return "count";
    case field_kind::cost: return "cost";
    case field_kind::boolean: return "boolean";
    case field_kind::tags: return "tags";
    case field_kind::metadata: return "metadata";
    case field_kind::prompt: return "prompt";
    case field_kind::any: return "any";
    case field_kind::object: return "object";
    case field_kind::run_status: return "run_status";
    case field_kind::log_level: return "log_level";
    case field_kind::span_status: return "span_status";
    }
    return "unknown";
}

json::object kind_description(field_kind kind) {
    const auto one_of = [](std::span<const std::string_view> values) {
        json::array a;
        for (const auto v : values) a.emplace_back(v);
        return json::object{{"check", "one_of"}, {"values", std::move(a)}};
    };
    switch (kind) {
    case field_kind::run_status: return one_of(domain::detail::run_statuses);
    case field_kind::log_level: return one_of(domain::detail::log_levels);
    case field_kind::span_status: return one_of(domain::detail::span_statuses);
    case field_kind::text:
    case field_kind::id:
    case field_kind::count:
    case field_kind::cost:
    case field_kind::boolean:
    case field_kind::tags:
    case field_kind::metadata:
    case field_kind::prompt:
    case field_kind::any:
    case field_kind::object: break;
    }
    return json::object{{"check", kind_name(kind)}};
}

json::object kind_messages(field_kind kind, domain::event_type type, std::string_view field) {
    const std::string path = "payload." + std::string(field);
    const std::string what = std::string(domain::to_string(type)) + "." + std::string(field);
    json::object messages;
    // Records the message `value` at the field gets, or at `at` below it.
    const auto probe = [&](std::string_view rule, json::value value, const std::string& at = {}) {
        json::object payload{{field, std::move(value)}};
        messages[rule] = payload_probe(type, payload, at.empty() ? path : at, what + " " + std::string(rule));
    };
    const auto deep = [&] { probe("too_deep", nested_arrays(domain::max_json_depth + 1)); };
    const json::value not_string_value = 1;
    switch (kind) {
    case field_kind::text:
        probe("not_string", not_string_value);
        probe("too_long", json::string(too_long_text));
        break;
    case field_kind::id:
        probe("not_string", not_string_value);
        probe("bad_id", "a b");
        break;
    case field_kind::count:
        probe("not_integer", 1.5);
        probe("negative", -1);
        probe("out_of_range", std::numeric_limits<std::uint64_t>::max());
        break;
    case field_kind::cost:
        probe("not_number", "0.1");
        probe("not_finite", std::numeric_limits<double>::infinity());
        probe("negative", -1.0);
        break;
    case field_kind::boolean: probe("not_boolean", "true"); break;
    case field_kind::tags:
        probe("not_array", "t");
        probe("too_many", strings(domain::max_tags + 1));
        probe("item_not_string", json::array{1}, path + "[0]");
        probe("item_too_long", json::array{json::string(too_long_text)}, path + "[0]");
        break;
    case field_kind::metadata:
        probe("not_object", json::array{});
        probe("too_many_keys", string_map(domain::max_metadata_keys + 1));
        probe("key_too_long", json::object{{too_long_text, "v"}});
        probe("value_not_string", json::object{{"k", 1}}, path + ".k");
        probe("value_too_long", json::object{{"k", json::string(too_long_text)}}, path + ".k");
        break;
    case field_kind::prompt:
        probe("not_string_or_array", not_string_value);
        probe("too_long", json::string(too_long_text));
        deep();
        break;
    case field_kind::object:
        probe("not_object", json::array{});
        probe("too_deep", nested_objects(domain::max_json_depth + 1));
        break;
    case field_kind::any: deep(); break;
    case field_kind::run_status:
    case field_kind::log_level:
    case field_kind::span_status:
        probe("not_string", not_string_value);
        probe("not_one_of", "\x01");
        break;
    }
    return messages;
}

json::object envelope_messages() {
    json::object m;
    m["not_object"] = envelope_probe(json::value(5), "", "a bare number");
    m["unknown_field"] = envelope_with("zz_unknown", 1, "unknown field");
    m["required"] = envelope_without("run_id");
    for (const char* key : {"run_id", "id", "parent_id"}) {
        json::object per_key;
        per_key["not_string"] = envelope_with(key, 1, key);
        per_key["bad_id"] = envelope_with(key, "a b", key);
        m[key] = std::move(per_key);
    }
    m["type"] = json::object{{"not_string", envelope_with("type", 1, "type")},
                             {"unknown", envelope_with("type", "\x01 not a type", "type")}};
    m["ts"] = json::object{{"not_string", envelope_with("ts", 1, "ts")},
                           {"not_rfc3339", envelope_with("ts", "yesterday", "ts")},
                           {"out_of_range", envelope_with("ts", "1969-12-31T23:59:59Z", "ts")}};
    m["node"] = json::object{{"not_string", envelope_with("node", 1, "node")},
                             {"too_long", envelope_with("node", json::string(domain::max_node_length + 1, 'n'), "node")}};
    m["payload"] = json::object{{"not_object", envelope_with("payload", json::array{}, "payload")}};
    // The payload object's own rules, on any type with a required field.
    json::object payload_rules;
    payload_rules["unknown_field"] =
        payload_probe(domain::event_type::thought, json::object{{"zz_unknown", 1}}, "payload.zz_unknown", "payload");
    for (int t = 0; t < domain::event_type_count; ++t) {
        const auto type = static_cast<domain::event_type>(t);
        for (const auto& rule : domain::detail::rules_of(type)) {
            if (!rule.required || payload_rules.contains("required")) continue;
            payload_rules["required"] =
                payload_probe(type, json::object{}, "payload." + std::string(rule.name), "payload required");
        }
    }
    m["payload_fields"] = std::move(payload_rules);
    return m;
}

bool client_may_post(domain::event_type type, std::string& message) {
    json::object event = probe_envelope();
    event["type"] = domain::to_string(type);
    std::vector<domain::violation> out;
    domain::decode_event(event, 0, probe_now_ms, out);
    for (const auto& v : out) {
        if (v.path != "type") continue;
        message = v.message;
        return false;
    }
    return true;
}

json::object batch_messages() {
    const auto probe = [](const json::value& body, std::string_view path, std::string_view what) {
        return only_message_at(domain::decode_event_batch(body, probe_now_ms).violations, path, what);
    };
    const json::object one_event{{"events", json::array{probe_envelope()}}};
    json::object with_extra = one_event;
    with_extra["zz_unknown"] = 1;
    return json::object{
        {"not_object", probe(json::array{}, "", "batch not an object")},
        {"unknown_field", probe(with_extra, "zz_unknown", "batch unknown field")},
        {"events_required", probe(json::object{}, "events", "events missing")},
        {"events_not_array", probe(json::object{{"events", json::object{}}}, "events", "events not an array")},
        {"events_count", probe(json::object{{"events", json::array{}}}, "events", "no events")},
    };
}

json::object artifact_name_messages() {
    json::object m;
    const auto probe = [&m](std::string_view rule, std::string_view name) {
        const auto problem = domain::artifact_name_problem(name);
        if (!problem) throw probe_failure{"artifact name '" + std::string(rule) + "' was accepted"};
        m[rule] = *problem;
    };
    probe("empty", "");
    probe("too_long", std::string(domain::max_artifact_name_length + 1, 'a'));
    probe("dot", ".");
    probe("slash", "a/b");
    probe("backslash", "a\\b");
    probe("control", "a\x01" "b");
    probe("not_utf8", "a\xff" "b");
    return m;
}

}  // namespace obs::sdk_rules
