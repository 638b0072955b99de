// What log() does before queueing: build the event's envelope, check it with
// the server's own decoder (domain/validation.hpp, so the SDK and the server
// cannot disagree on a rule), and write the wire form, one compact JSON line
// of NDJSON, as POST /observability/events takes it and the spool stores it.
#pragma once

#include "observability/provider.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace observability::detail {

// The largest event line: a body holds at most 4 MiB, and an event must fit
// in a batch of its own.
inline constexpr std::size_t max_event_line_bytes = (4u << 20) - 64;

// Checks and encodes one event logged at `now_ms` (its `ts` when none is
// given): `line` is cleared and receives the NDJSON line ({"id":..,"run_id":..,
// "type":..,"ts":..,...,"payload":{..}}\n; the caller reuses its capacity).
// Returns the event's id (given, or a fresh UUIDv7). Throws validation_error
// with the first violation's path and message.
std::string make_event_line(std::string_view step_type, boost::json::object data, const log_options& where,
                            std::int64_t now_ms, std::string& line);

}  // namespace observability::detail
