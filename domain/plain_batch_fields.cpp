// The fast path's field rules (see plain_batch_fields.hpp).
#include "domain/plain_batch_fields.hpp"

#include <span>

namespace obs::domain::detail {

namespace {

bool one_of(std::span<const std::string_view> allowed, std::string_view s) {
    for (const auto a : allowed)
        if (a == s) return true;
    return false;
}

}  // namespace

bool plain_number_allowed(field_kind kind, bool at_field, bool finite_non_negative, bool int64_integer) {
    if (!at_field) return kind != field_kind::tags && kind != field_kind::metadata;
    switch (kind) {
    case field_kind::count: return finite_non_negative && int64_integer;
    case field_kind::cost: return finite_non_negative;
    case field_kind::any: return true;
    default: return false;
    }
}

bool plain_scalar_allowed(field_kind kind, bool at_field, field_kind scalar) {
    if (!at_field) return kind != field_kind::tags && kind != field_kind::metadata;
    return kind == scalar || kind == field_kind::any;
}

bool plain_field_text_needed(field_kind kind, event_type type) {
    switch (kind) {
    case field_kind::id:
    case field_kind::run_status:
    case field_kind::log_level:
    case field_kind::span_status: return true;
    case field_kind::text: return type == event_type::run_started;
    default: return false;
    }
}

bool plain_take_field_string(const field_rule& field, event_type type, const std::string& s, run_facts& facts) {
    switch (field.kind) {
    case field_kind::id:
        if (!is_valid_id(s)) return false;
        break;
    case field_kind::run_status:
        if (!one_of(run_statuses, s)) return false;
        break;
    case field_kind::log_level:
        if (!one_of(log_levels, s)) return false;
        break;
    case field_kind::span_status:
        if (!one_of(span_statuses, s)) return false;
        break;
    default: break;
    }
    if (type == event_type::run_started) {
        if (field.name == "name") facts.name = s;
        if (field.name == "agent") facts.agent = s;
        if (field.name == "parent_run_id") facts.parent_run_id = s;
    } else if (type == event_type::run_finished && field.name == "status") {
        facts.final_status = s;
    }
    return true;
}

void plain_number_fact(const field_rule& field, event_type type, std::int64_t integer, double real,
                       run_facts& facts) {
    if (type != event_type::llm_call) return;
    if (field.name == "input_tokens") facts.input_tokens = integer;
    if (field.name == "output_tokens") facts.output_tokens = integer;
    if (field.name == "cost_usd") facts.cost_usd = real;
}

}  // namespace obs::domain::detail
