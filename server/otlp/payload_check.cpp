// The quick payload check (see payload_check.hpp). Each case mirrors
// check_field in domain/payload_rules.cpp, returning false where it reports.
#include "server/otlp/payload_check.hpp"

#include "domain/payload_rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace obs::otlp {

namespace json = boost::json;
using domain::detail::field_kind;

namespace {

bool short_text(const json::value& v) {
    const auto* s = v.if_string();
    return s != nullptr && s->size() <= domain::max_text_length;
}

bool one_of(const json::value& v, std::span<const std::string_view> allowed) {
    const auto* s = v.if_string();
    return s != nullptr && std::find(allowed.begin(), allowed.end(), std::string_view(*s)) != allowed.end();
}

// A free-form value: nests at most `levels` levels of containers (the value
// itself the first) and holds no number that is not a finite double.
bool free_form(const json::value& v, std::size_t levels) {
    switch (v.kind()) {
    case json::kind::double_: return std::isfinite(v.get_double());
    case json::kind::array:
        if (levels == 0) return false;
        for (const auto& item : v.get_array())
            if (!free_form(item, levels - 1)) return false;
        return true;
    case json::kind::object:
        if (levels == 0) return false;
        for (const auto& kv : v.get_object())
            if (!free_form(kv.value(), levels - 1)) return false;
        return true;
    default: return true;
    }
}

bool field_ok(field_kind kind, const json::value& v) {
    switch (kind) {
    case field_kind::text: return short_text(v);
    case field_kind::id: return v.is_string() && domain::is_valid_id(v.get_string());
    case field_kind::count:
        if (const auto* i = v.if_int64()) return *i >= 0;
        if (const auto* u = v.if_uint64())
            return *u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        return false;
    case field_kind::cost: {
        if (!v.is_number()) return false;
        const double d = v.to_number<double>();
        return std::isfinite(d) && d >= 0;
    }
    case field_kind::boolean: return v.is_bool();
    case field_kind::tags: {
        const auto* a = v.if_array();
        return a != nullptr && a->size() <= domain::max_tags && std::all_of(a->begin(), a->end(), short_text);
    }
    case field_kind::metadata: {
        const auto* o = v.if_object();
        if (o == nullptr || o->size() > domain::max_metadata_keys) return false;
        return std::all_of(o->begin(), o->end(), [](const json::key_value_pair& kv) {
            return kv.key().size() <= domain::max_text_length && short_text(kv.value());
        });
    }
    case field_kind::run_status: return one_of(v, domain::detail::run_statuses);
    case field_kind::log_level: return one_of(v, domain::detail::log_levels);
    case field_kind::span_status: return one_of(v, domain::detail::span_statuses);
    case field_kind::prompt:
        if (v.is_string()) return short_text(v);
        return v.is_array() && free_form(v, domain::max_json_depth);
    case field_kind::object: return v.is_object() && free_form(v, domain::max_json_depth);
    case field_kind::any: return free_form(v, domain::max_json_depth);
    }
    return false;
}

}  // namespace

bool payload_surely_valid(domain::event_type type, const json::object& payload) {
    const auto rules = domain::detail::rules_of(type);
    for (const auto& kv : payload) {
        const auto rule = std::find_if(rules.begin(), rules.end(), [&](const domain::detail::field_rule& f) {
            return f.name == std::string_view(kv.key());
        });
        if (rule == rules.end() || !field_ok(rule->kind, kv.value())) return false;
    }
    return std::all_of(rules.begin(), rules.end(), [&](const domain::detail::field_rule& f) {
        return !f.required || payload.contains(f.name);
    });
}

}  // namespace obs::otlp
