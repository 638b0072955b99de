// The payload rules (see payload_rules.hpp): one table of field rules per
// event type, the checks of each kind of field, validate_payload, and the
// run facts a valid payload carries.
//
// Nesting rule: each payload field's value may nest at most max_json_depth
// (64) levels of arrays and objects, the value itself counting as the first
// level when it is a container; a deeper value is reported at its field
// (`payload.arguments`).
//
// Strings need no UTF-8 check here: parse_json rejects invalid UTF-8. The
// 1 MiB text rule applies to the typed string fields (and tags, metadata);
// strings inside free-form values (arguments, output, prompt arrays) are
// bounded by the body limit instead.
#include "domain/payload_rules.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>

namespace obs::domain {

namespace json = boost::json;

namespace detail {
namespace {

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
constexpr field_rule span_fields[] = {
    {"name", field_kind::text, true},         {"kind", field_kind::text, false},
    {"status", field_kind::span_status, false}, {"duration_ms", field_kind::count, false},
    {"attributes", field_kind::object, false},
};
// Server-written; kept here so the server's own artifact events obey a shape.
constexpr field_rule artifact_fields[] = {
    {"name", field_kind::text, true},         {"sha256", field_kind::text, true},
    {"size", field_kind::count, true},        {"content_type", field_kind::text, true},
    {"step_id", field_kind::id, false},
};

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

// The path of the first number in `v` that is not a finite double (Boost.JSON
// reads 1e400 as infinity and 0e400 as NaN, which no JSON text can carry
// back), appended to `path`; nullopt when there is none. Recursion is
// bounded as `v` passed nests_deeper_than.
std::optional<std::string> first_non_finite(const json::value& v, std::string& path) {
    if (const auto* d = v.if_double()) {
        if (!std::isfinite(*d)) return path;
    } else if (const auto* a = v.if_array()) {
        const std::size_t length = path.size();
        for (std::size_t i = 0; i < a->size(); ++i) {
            path.append("[").append(std::to_string(i)).append("]");
            if (auto found = first_non_finite((*a)[i], path)) return found;
            path.resize(length);
        }
    } else if (const auto* o = v.if_object()) {
        const std::size_t length = path.size();
        for (const auto& kv : *o) {
            path.append(".").append(kv.key());
            if (auto found = first_non_finite(kv.value(), path)) return found;
            path.resize(length);
        }
    }
    return std::nullopt;
}

void check_text(const json::value& v, const std::string& path, const reporter& r) {
    const auto* s = v.if_string();
    if (!s)
        r.fail(path, "must be a string");
    else if (s->size() > max_text_length)
        r.fail(path, text_rule_message);
}

void check_one_of(const json::value& v, std::span<const std::string_view> allowed, std::string_view message,
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
        check_one_of(v, run_statuses, "must be one of succeeded, failed, cancelled", path, r);
        return;
    case field_kind::log_level:
        check_one_of(v, log_levels, "must be one of debug, info, warning, error", path, r);
        return;
    case field_kind::span_status: check_one_of(v, span_statuses, "must be one of unset, ok, error", path, r); return;
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
    // The free-form kinds (prompt arrays, object, any) get the nesting rule,
    // and a number that does not fit a double is named (the first one).
    if (nests_deeper_than(v, max_json_depth)) {
        r.fail(path, "nested deeper than " + std::to_string(max_json_depth) + " levels");
        return;
    }
    std::string inner = path;
    if (auto found = first_non_finite(v, inner)) r.fail(std::move(*found), std::string(non_finite_message));
}

}  // namespace

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
    case event_type::span: return span_fields;
    }
    return {};
}

void check_id(const json::value& v, const std::string& path, const reporter& r) {
    const auto* s = v.if_string();
    if (!s)
        r.fail(path, "must be a string");
    else if (!is_valid_id(*s))
        r.fail(path, std::string(id_rule_message));
}

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

}  // namespace detail

void validate_payload(event_type type, const json::value& payload, std::size_t index, std::vector<violation>& out) {
    const detail::reporter r{index, out};
    const auto* object = payload.if_object();
    if (!object) {
        r.fail("payload", "must be an object");
        return;
    }
    const auto rules = detail::rules_of(type);
    for (const auto& kv : *object) {
        const auto rule = std::find_if(rules.begin(), rules.end(), [&](const detail::field_rule& f) {
            return f.name == std::string_view(kv.key());
        });
        std::string path = "payload." + std::string(kv.key());
        if (rule == rules.end())
            r.fail(std::move(path), "unknown field");
        else
            detail::check_field(rule->kind, kv.value(), path, r);
    }
    for (const auto& rule : rules)
        if (rule.required && !object->contains(rule.name)) r.fail("payload." + std::string(rule.name), "required");
}

}  // namespace obs::domain
