// The payload field rules of the streaming fast path (plain_batch.cpp) that
// depend only on a field's kind and its event's type, not on the parser's
// state: which scalars may stand where, the checks of a whole string, and
// the run facts read from a field. The same rules as payload_rules.cpp
// applies to a DOM, asked token by token.
#pragma once

#include "domain/event.hpp"
#include "domain/payload_rules.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace obs::domain::detail {

// Whether a number may stand in a field of `kind`: `at_field` true for the
// field's own value, false anywhere inside it. Anywhere in a free-form
// value; at a field, a cost must be finite and >= 0, a count also an int64
// integer; never inside tags or metadata (they hold strings).
bool plain_number_allowed(field_kind kind, bool at_field, bool finite_non_negative, bool int64_integer);

// Whether a scalar of kind `scalar` (boolean; `any` for null) may stand in
// a field of `kind`, as for plain_number_allowed.
bool plain_scalar_allowed(field_kind kind, bool at_field, field_kind scalar);

// Whether the whole text of a string at a field of `kind` in an event of
// `type` is needed: for its check (an id, an enum) or as a run fact.
bool plain_field_text_needed(field_kind kind, event_type type);

// A whole string `s` at field `field` of an event of `type`: checked by the
// field's kind (false when it breaks the rule), and the run facts facts_of
// would read from it stored in `facts`.
bool plain_take_field_string(const field_rule& field, event_type type, const std::string& s, run_facts& facts);

// The llm_call counters facts_of reads from a number at field `field`: a
// count as `integer`, the cost as `real`.
void plain_number_fact(const field_rule& field, event_type type, std::int64_t integer, double real,
                       run_facts& facts);

}  // namespace obs::domain::detail
