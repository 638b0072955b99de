// The last step of the span mapping: one mapped event, as span_mapper
// builds it (envelope fields as values, the payload as a JSON object), made
// into the domain::event the writer stores, with exactly the result
// domain::decode_event gives for the same event sent as a JSON object
// {"id","run_id","type","ts","node"?,"parent_id"?,"payload"}: the same
// payload text and run facts, and the same first violation when a rule is
// broken.
//
// Why not decode_event itself: it re-reads the envelope the mapper has just
// written (a string path per key), which with the canonical hash it then
// made of every event was over 40% of the OTLP route's CPU time. Here an
// envelope that keeps the rules, which a mapped one always does (ids are
// made from checked hex, the node is clipped, times are bounded), is not
// decoded again: its fields are checked in place and the payload through
// payload_check (and the same domain::validate_payload when that is not
// sure). Any envelope field that
// breaks a rule sends the event through decode_event, so its violation is
// the one decode_event reports. tests/otlp/mapping_golden_test.cpp and
// event_finish_test.cpp hold the output to decode_event's.
#pragma once

#include "domain/event.hpp"
#include "domain/validation.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace obs::otlp {

// One mapped event before validation. `payload` should be an object (as
// decode_event, anything else is a violation).
struct event_draft {
    std::string id;
    std::string run_id;
    domain::event_type type = domain::event_type::span;
    std::int64_t ts_ms = 0;
    std::optional<std::string> node;
    std::optional<std::string> parent_id;
    boost::json::value payload;
    // Set by span_mapper, which makes every id of a draft from span ids it has
    // checked as hex digits, fixed suffixes and a run id it has checked: the
    // ids then keep the id rules by construction and finish_event does not
    // walk them byte by byte again (a tenth of its time). Drafts made any
    // other way leave it false and have their ids checked.
    bool ids_checked = false;
};

// The stored event of `draft`, received at `now_ms`, or nullopt with the
// violations appended to `out` (index 0), exactly as decode_event on
// envelope_object(draft) with `now_ms`. `draft` is left unspecified.
std::optional<domain::event> finish_event(event_draft& draft, std::int64_t now_ms,
                                          std::vector<domain::violation>& out);

// The JSON object decode_event would be given for `draft` (keys in the
// order above; `ts` as RFC 3339 text). Used on the slow path and by tests.
boost::json::object envelope_object(const event_draft& draft, boost::json::storage_ptr sp = {});

}  // namespace obs::otlp
