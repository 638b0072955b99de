// The per-type payload rules of design/API.md ("Event types") and the field
// checks they share with the envelope. Internal to domain: validation.cpp
// decodes the envelope with these and calls validate_payload (declared in
// validation.hpp, implemented in payload_rules.cpp) for the payload. Only
// what the envelope decoder needs is declared here.
#pragma once

#include "domain/event.hpp"
#include "domain/validation.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
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

// The message of a broken id rule, for a field or a route's run id.
inline constexpr std::string_view id_rule_message = "must be 1 to 128 characters of [A-Za-z0-9._:-]";

// Reports at `path` unless `v` is a string that is a valid id (is_valid_id).
void check_id(const boost::json::value& v, const std::string& path, const reporter& r);

// What a payload of `type` changes in its run's row.
// REQUIRES: `payload` passed validate_payload(type, ...) with no violation
// (its fields are read without checks).
run_facts facts_of(event_type type, const boost::json::object& payload);

}  // namespace obs::domain::detail
