// A quick check that a mapped event's payload keeps every rule of
// domain::validate_payload, for the common case where it does: no path
// strings, no allocation. It answers "surely valid" only when
// validate_payload would report nothing, and "not sure" on anything else,
// and the caller (event_finish) then runs validate_payload itself for the
// verdict and the messages. It reads the same rule table
// (domain::detail::rules_of) and applies each field kind's check as
// payload_rules.cpp does; tests/otlp/payload_check_test.cpp compares the
// two on a table of valid and broken payloads of every field kind.
//
// Why: validate_payload builds a "payload.<field>" string for every field
// it checks, which was a tenth of the mapping's CPU time.
#pragma once

#include "domain/event.hpp"

#include <boost/json/object.hpp>

namespace obs::otlp {

// True only when domain::validate_payload(type, payload) finds no violation.
bool payload_surely_valid(domain::event_type type, const boost::json::object& payload);

}  // namespace obs::otlp
