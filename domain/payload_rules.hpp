// The per-type payload rules of design/API.md ("Event types") and the field
// checks they share with the envelope. Internal to domain: validation.cpp
// decodes the envelope with these and calls validate_payload (declared in
// validation.hpp, implemented in payload_rules.cpp) for the payload;
// plain_batch.cpp checks the same table while it streams. Only what those
// decoders need is declared here.
#pragma once

#include "domain/event.hpp"
#include "domain/validation.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace obs::domain::detail {

// Appends the violations of one event (at `index` in its batch) to `out`,
// which must outlive the reporter.
struct reporter {
    std::size_t index;
    std::vector<violation>& out;
    void fail(std::string path, std::string message) const {
        out.push_back({index, std::move(path), std::move(message)});
    }
};

// What a payload field must hold.
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
    run_status,  // one of run_statuses
    log_level,   // one of log_levels
    span_status, // one of span_statuses
};

struct field_rule {
    std::string_view name;
    field_kind kind;
    bool required;
};

inline constexpr std::string_view run_statuses[] = {"succeeded", "failed", "cancelled"};
inline constexpr std::string_view log_levels[] = {"debug", "info", "warning", "error"};
inline constexpr std::string_view span_statuses[] = {"unset", "ok", "error"};

// The payload fields of `type` (API.md "Event types"), at most 8. A free-form
// value (object, any, a prompt array) may nest at most max_json_depth levels,
// the value itself counting as the first when it is a container.
std::span<const field_rule> rules_of(event_type type);

// The message of a number that does not fit a finite double (1e400, 0e400)
// inside a free-form payload value.
inline constexpr std::string_view non_finite_message = "number is out of range (must fit a finite double)";

// The message of a broken id rule, for a field or a route's run id.
inline constexpr std::string_view id_rule_message = "must be 1 to 128 characters of [A-Za-z0-9._:-]";

// Reports at `path` unless `v` is a string that is a valid id (is_valid_id).
void check_id(const boost::json::value& v, const std::string& path, const reporter& r);

// What a payload of `type` changes in its run's row.
// REQUIRES: `payload` passed validate_payload(type, ...) with no violation
// (its fields are read without checks).
run_facts facts_of(event_type type, const boost::json::object& payload);

}  // namespace obs::domain::detail
