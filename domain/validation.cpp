// Parsing of request bodies and validation of events against design/API.md.
// Every violation is collected (a batch answer names every bad field), and an
// event is only built once its input broke no rule.
//
// Nesting rule: each payload field's value may nest at most max_json_depth
// (64) levels of arrays and objects, the value itself counting as the first
// level when it is a container; a deeper value is reported at its field
// (`payload.arguments`). The parser's own cap (parse_max_depth) is far above
// that, so a deep body gets a violation with a path rather than a 400.
//
// Strings need no UTF-8 check here: parse_json rejects invalid UTF-8. The
// 1 MiB text rule applies to the typed string fields (and tags, metadata);
// strings inside free-form values (arguments, output, prompt arrays) are
// bounded by the body limit instead.
#include "domain/validation.hpp"

#include "domain/sha256.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <span>

namespace obs::domain {

namespace json = boost::json;

namespace {

// Generous: the 64-level rule is checked later, with a path.
constexpr std::size_t parse_max_depth = 256;

// ---------------------------------------------------------------- parsing

parse_result parse_error(std::size_t offset, std::string message) {
    return {std::nullopt, json_error{offset, std::move(message)}};
}

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// ---------------------------------------------------------------- rules

// Appends violations for one event.
struct reporter {
    std::size_t index;
    std::vector<violation>& out;
    void fail(std::string path, std::string message) const {
        out.push_back({index, std::move(path), std::move(message)});
    }
};

enum class field_kind {
    text,        // string <= max_text_length
    id,          // identifier
    count,       // integer >= 0 that fits int64
    cost,        // finite number >= 0
    boolean,
    tags,        // array of <= max_tags texts
    metadata,    // object of <= max_metadata_keys text values
    prompt,      // text or array
    any,         // any JSON value
    object,      // any JSON object
    run_status,  // succeeded | failed | cancelled
    log_level,   // debug | info | warning | error
};

struct field_rule {
    std::string_view name;
    field_kind kind;
    bool required;
};

constexpr field_rule run_started_fields[] = {
    {"name", field_kind::text, true},          {"agent", field_kind::text, true},
    {"parent_run_id", field_kind::id, false},  {"tags", field_kind::tags, false},
    {"metadata", field_kind::metadata, false},
};
constexpr field_rule run_finished_fields[] = {
    {"status", field_kind::run_status, true},
    {"summary", field_kind::text, false},
};
constexpr field_rule thought_fields[] = {{"text", field_kind::text, true}};
constexpr field_rule tool_call_fields[] = {
    {"tool", field_kind::text, true},
    {"call_id", field_kind::text, true},
    {"arguments", field_kind::object, true},
};
constexpr field_rule tool_result_fields[] = {
    {"call_id", field_kind::text, true},
    {"output", field_kind::any, true},
    {"is_error", field_kind::boolean, false},
    {"duration_ms", field_kind::count, false},
};
constexpr field_rule llm_call_fields[] = {
    {"model", field_kind::text, true},          {"provider", field_kind::text, false},
    {"input_tokens", field_kind::count, false}, {"output_tokens", field_kind::count, false},
    {"latency_ms", field_kind::count, false},   {"cost_usd", field_kind::cost, false},
    {"prompt", field_kind::prompt, false},      {"completion", field_kind::text, false},
};
constexpr field_rule error_fields[] = {
    {"kind", field_kind::text, true},
    {"message", field_kind::text, true},
    {"stack", field_kind::text, false},
    {"fatal", field_kind::boolean, false},
};
constexpr field_rule log_fields[] = {
    {"level", field_kind::log_level, true},
    {"message", field_kind::text, true},
};
// Server-written; kept here so the server's own artifact events obey a shape.
constexpr field_rule artifact_fields[] = {
    {"name", field_kind::text, true},         {"sha256", field_kind::text, true},
    {"size", field_kind::count, true},        {"content_type", field_kind::text, true},
    {"step_id", field_kind::id, false},
};

std::span<const field_rule> rules_of(event_type type) {
    switch (type) {
    case event_type::run_started: return run_started_fields;
    case event_type::run_finished: return run_finished_fields;
    case event_type::thought: return thought_fields;
    case event_type::tool_call: return tool_call_fields;
    case event_type::tool_result: return tool_result_fields;
    case event_type::llm_call: return llm_call_fields;
    case event_type::error: return error_fields;
    case event_type::log: return log_fields;
    case event_type::artifact: return artifact_fields;
    }
    return {};
}

const std::string id_rule_message = "must be 1 to 128 characters of [A-Za-z0-9._:-]";
const std::string text_rule_message = "must be at most " + std::to_string(max_text_length) + " bytes";

// True when `v` nests more than `limit` levels of arrays and objects. Stops
// descending past the limit, so the recursion is bounded by it.
bool nests_deeper_than(const json::value& v, std::size_t limit) {
    if (const auto* a = v.if_array()) {
        if (limit == 0) return true;
        return std::any_of(a->begin(), a->end(), [&](const json::value& e) { return nests_deeper_than(e, limit - 1); });
    }
    if (const auto* o = v.if_object()) {
        if (limit == 0) return true;
        return std::any_of(o->begin(), o->end(),
                           [&](const json::key_value_pair& kv) { return nests_deeper_than(kv.value(), limit - 1); });
    }
    return false;
}

void check_text(const json::value& v, const std::string& path, const reporter& r) {
    const auto* s = v.if_string();
    if (!s)
        r.fail(path, "must be a string");
    else if (s->size() > max_text_length)
        r.fail(path, text_rule_message);
}

void check_id(const json::value& v, const std::string& path, const reporter& r) {
    const auto* s = v.if_string();
    if (!s)
        r.fail(path, "must be a string");
    else if (!is_valid_id(*s))
        r.fail(path, id_rule_message);
}

void check_one_of(const json::value& v, std::initializer_list<std::string_view> allowed, std::string_view message,
                  const std::string& path, const reporter& r) {
    const auto* s = v.if_string();
    if (!s)
        r.fail(path, "must be a string");
    else if (std::find(allowed.begin(), allowed.end(), std::string_view(*s)) == allowed.end())
        r.fail(path, std::string(message));
}

void check_count(const json::value& v, const std::string& path, const reporter& r) {
    if (const auto* i = v.if_int64()) {
        if (*i < 0) r.fail(path, "must be >= 0");
    } else if (const auto* u = v.if_uint64()) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) r.fail(path, "out of range");
    } else {
        r.fail(path, "must be an integer");
    }
}

void check_cost(const json::value& v, const std::string& path, const reporter& r) {
    if (!v.is_number()) {
        r.fail(path, "must be a number");
        return;
    }
    const double d = v.to_number<double>();
    if (!std::isfinite(d))
        r.fail(path, "must be a finite number");
    else if (d < 0)
        r.fail(path, "must be >= 0");
}

void check_tags(const json::value& v, const std::string& path, const reporter& r) {
    const auto* a = v.if_array();
    if (!a) {
        r.fail(path, "must be an array");
        return;
    }
    if (a->size() > max_tags) {
        r.fail(path, "must have at most " + std::to_string(max_tags) + " items");
        return;
    }
    // The element path is built only for a bad element: tags are on the hot path.
    for (std::size_t i = 0; i < a->size(); ++i) {
        const auto* s = (*a)[i].if_string();
        if (!s || s->size() > max_text_length) check_text((*a)[i], path + "[" + std::to_string(i) + "]", r);
    }
}

void check_metadata(const json::value& v, const std::string& path, const reporter& r) {
    const auto* o = v.if_object();
    if (!o) {
        r.fail(path, "must be an object");
        return;
    }
    if (o->size() > max_metadata_keys) {
        r.fail(path, "must have at most " + std::to_string(max_metadata_keys) + " keys");
        return;
    }
    for (const auto& kv : *o) {
        // A key too long for the text rule would make an unreadable path.
        const auto* s = kv.value().if_string();
        if (kv.key().size() > max_text_length)
            r.fail(path, "keys " + text_rule_message);
        else if (!s || s->size() > max_text_length)
            check_text(kv.value(), path + "." + std::string(kv.key()), r);
    }
}

void check_field(field_kind kind, const json::value& v, const std::string& path, const reporter& r) {
    switch (kind) {
    case field_kind::text: check_text(v, path, r); return;
    case field_kind::id: check_id(v, path, r); return;
    case field_kind::count: check_count(v, path, r); return;
    case field_kind::cost: check_cost(v, path, r); return;
    case field_kind::boolean:
        if (!v.is_bool()) r.fail(path, "must be a boolean");
        return;
    case field_kind::tags: check_tags(v, path, r); return;
    case field_kind::metadata: check_metadata(v, path, r); return;
    case field_kind::run_status:
        check_one_of(v, {"succeeded", "failed", "cancelled"}, "must be one of succeeded, failed, cancelled", path, r);
        return;
    case field_kind::log_level:
        check_one_of(v, {"debug", "info", "warning", "error"}, "must be one of debug, info, warning, error", path, r);
        return;
    case field_kind::prompt:
        if (v.is_string()) {
            check_text(v, path, r);
            return;
        }
        if (!v.is_array()) {
            r.fail(path, "must be a string or an array");
            return;
        }
        break;
    case field_kind::object:
        if (!v.is_object()) {
            r.fail(path, "must be an object");
            return;
        }
        break;
    case field_kind::any: break;
    }
    // The free-form kinds (prompt arrays, object, any) get the nesting rule.
    if (nests_deeper_than(v, max_json_depth))
        r.fail(path, "nested deeper than " + std::to_string(max_json_depth) + " levels");
}

// What a valid payload changes in its run's row.
run_facts facts_of(event_type type, const json::object& payload) {
    run_facts facts;
    auto text = [&](std::string_view key) -> std::optional<std::string> {
        if (const auto* v = payload.if_contains(key)) return std::string(v->get_string());
        return std::nullopt;
    };
    auto count = [&](std::string_view key) -> std::int64_t {
        const auto* v = payload.if_contains(key);
        return v ? v->to_number<std::int64_t>() : 0;
    };
    switch (type) {
    case event_type::run_started:
        facts.name = text("name");
        facts.agent = text("agent");
        facts.parent_run_id = text("parent_run_id");
        if (const auto* v = payload.if_contains("tags")) facts.tags_json = json::serialize(*v);
        if (const auto* v = payload.if_contains("metadata")) facts.metadata_json = json::serialize(*v);
        break;
    case event_type::run_finished: facts.final_status = text("status"); break;
    case event_type::llm_call:
        facts.input_tokens = count("input_tokens");
        facts.output_tokens = count("output_tokens");
        if (const auto* v = payload.if_contains("cost_usd")) facts.cost_usd = v->to_number<double>();
        break;
    default: break;
    }
    return facts;
}

// ---------------------------------------------------------------- fingerprint

void append_canonical(std::string& out, const json::value& v);

using member = std::pair<std::string_view, const json::value*>;

// Members sorted by key (bytewise), so key order in the body does not matter.
void append_members(std::string& out, std::vector<member>& members) {
    std::sort(members.begin(), members.end(), [](const member& a, const member& b) { return a.first < b.first; });
    out.push_back('{');
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out.push_back(',');
        append_json_string(out, members[i].first);
        out.push_back(':');
        append_canonical(out, *members[i].second);
    }
    out.push_back('}');
}

// Compact JSON with object keys sorted, recursively. Depth is bounded by
// validation, which runs first.
void append_canonical(std::string& out, const json::value& v) {
    if (const auto* o = v.if_object()) {
        std::vector<member> members;
        members.reserve(o->size());
        for (const auto& kv : *o) members.emplace_back(kv.key(), &kv.value());
        append_members(out, members);
    } else if (const auto* a = v.if_array()) {
        out.push_back('[');
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (i > 0) out.push_back(',');
            append_canonical(out, (*a)[i]);
        }
        out.push_back(']');
    } else if (const auto* s = v.if_string()) {
        append_json_string(out, *s);
    } else {
        out.append(json::serialize(v));
    }
}

// The hash of the event as the client sent it, with the effective run id
// (a steps route's path run counts as sent), and nothing the server made.
std::string fingerprint_of(const json::object& event_object, const std::string& run_id) {
    const json::value run_id_value(run_id);
    std::vector<member> members;
    members.reserve(event_object.size() + 1);
    for (const auto& kv : event_object) members.emplace_back(kv.key(), &kv.value());
    if (!event_object.contains("run_id")) members.emplace_back("run_id", &run_id_value);
    std::string canonical;
    append_members(canonical, members);
    return sha256_hex(canonical);
}

// ---------------------------------------------------------------- batches

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

}  // namespace

parse_result parse_json(std::string_view text) {
    json::parse_options options;
    options.max_depth = parse_max_depth;
    json::stream_parser parser({}, options);
    json::error_code ec;
    // On error write_some returns the offset where the parser stopped; on
    // success it stops after the value and its trailing whitespace.
    const std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
    if (ec) return parse_error(consumed, ec.message());
    if (consumed < text.size()) return parse_error(consumed, "unexpected text after the JSON value");
    parser.finish(ec);
    if (ec) return parse_error(text.size(), ec.message());
    return {parser.release(), std::nullopt};
}

ndjson_result parse_ndjson(std::string_view text) {
    ndjson_result result;
    std::size_t line_start = 0;
    for (std::size_t line_number = 1; line_start <= text.size(); ++line_number) {
        const std::size_t newline = text.find('\n', line_start);
        const std::size_t line_end = newline == std::string_view::npos ? text.size() : newline;
        // A CRLF line's '\r' is JSON whitespace: no special case needed.
        const std::string_view line = text.substr(line_start, line_end - line_start);
        if (!is_blank(line)) {
            auto parsed = parse_json(line);
            if (parsed.error) {
                result.values.clear();
                result.error = json_error{line_start + parsed.error->byte_offset,
                                          "line " + std::to_string(line_number) + ": " + parsed.error->message};
                return result;
            }
            result.values.push_back(std::move(*parsed.value));
        }
        if (newline == std::string_view::npos) break;
        line_start = newline + 1;
    }
    return result;
}

void validate_payload(event_type type, const json::value& payload, std::size_t index, std::vector<violation>& out) {
    const reporter r{index, out};
    const auto* object = payload.if_object();
    if (!object) {
        r.fail("payload", "must be an object");
        return;
    }
    const auto rules = rules_of(type);
    for (const auto& kv : *object) {
        const auto rule = std::find_if(rules.begin(), rules.end(),
                                       [&](const field_rule& f) { return f.name == std::string_view(kv.key()); });
        std::string path = "payload." + std::string(kv.key());
        if (rule == rules.end())
            r.fail(std::move(path), "unknown field");
        else
            check_field(rule->kind, kv.value(), path, r);
    }
    for (const auto& rule : rules)
        if (rule.required && !object->contains(rule.name)) r.fail("payload." + std::string(rule.name), "required");
}

std::optional<event> decode_event(const json::value& v, std::size_t index, std::int64_t now_ms,
                                  std::vector<violation>& out, std::optional<std::string_view> forced_run_id) {
    const std::size_t violations_before = out.size();
    const reporter r{index, out};
    const auto* object = v.if_object();
    if (!object) {
        r.fail("", "must be an object");
        return std::nullopt;
    }
    event ev;
    ev.received_ms = now_ms;
    ev.ts_ms = now_ms;
    std::optional<event_type> type;
    const json::value* payload = nullptr;
    bool type_seen = false;
    bool run_id_seen = false;
    for (const auto& kv : *object) {
        const std::string_view key = kv.key();
        const json::value& value = kv.value();
        const std::string path(key);
        if (key == "id") {
            check_id(value, path, r);
            if (value.is_string()) ev.id = value.get_string();
            ev.id_given = true;
        } else if (key == "run_id") {
            run_id_seen = true;
            check_id(value, path, r);
            if (!value.is_string()) continue;
            ev.run_id = value.get_string();
            if (forced_run_id && *forced_run_id != ev.run_id) r.fail(path, "must match the run in the path");
        } else if (key == "type") {
            type_seen = true;
            if (!value.is_string()) {
                r.fail(path, "must be a string");
                continue;
            }
            type = parse_event_type(value.get_string());
            if (!type)
                r.fail(path, "must be one of run_started, run_finished, thought, tool_call, tool_result, "
                             "llm_call, error, log");
            else if (*type == event_type::artifact)
                r.fail(path, "artifact events are written by the server only");
        } else if (key == "ts") {
            const auto* s = value.if_string();
            const auto ms = s ? parse_rfc3339(*s) : std::nullopt;
            if (!s)
                r.fail(path, "must be a string");
            else if (!ms)
                r.fail(path, "must be an RFC 3339 time");
            else if (*ms < 0 || *ms >= rfc3339_ms_limit)
                r.fail(path, "must be between 1970 and 9999");
            else
                ev.ts_ms = *ms;
        } else if (key == "node") {
            const auto* s = value.if_string();
            if (!s)
                r.fail(path, "must be a string");
            else if (s->size() > max_node_length)
                r.fail(path, "must be at most " + std::to_string(max_node_length) + " bytes");
            else
                ev.node = std::string(*s);
        } else if (key == "parent_id") {
            check_id(value, path, r);
            if (value.is_string()) ev.parent_id = std::string(value.get_string());
        } else if (key == "payload") {
            payload = &value;
        } else {
            r.fail(path, "unknown field");
        }
    }
    if (!run_id_seen) {
        if (!forced_run_id)
            r.fail("run_id", "required");
        else if (!is_valid_id(*forced_run_id))
            r.fail("run_id", id_rule_message);
        else
            ev.run_id = *forced_run_id;
    }
    if (!type_seen) r.fail("type", "required");
    if (!payload)
        r.fail("payload", "required");
    else if (!payload->is_object())
        r.fail("payload", "must be an object");
    else if (type && *type != event_type::artifact)
        validate_payload(*type, *payload, index, out);
    if (out.size() != violations_before) return std::nullopt;

    ev.type = *type;
    ev.payload_json = json::serialize(*payload);
    ev.facts = facts_of(ev.type, payload->get_object());
    if (!ev.id_given) ev.id = make_uuid_v7(now_ms);
    ev.fingerprint = fingerprint_of(*object, ev.run_id);
    return ev;
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
