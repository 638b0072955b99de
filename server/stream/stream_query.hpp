// The request of GET /observability/stream (API.md, "The stream"): the
// filters, the resume point and the browser's access token, parsed from the
// request target's query and the Last-Event-ID header. Pure parsing, no I/O:
// the HTTP session calls it before anything is written, so every bad input
// becomes an ordinary 400 error answer.
#pragma once

#include "domain/event.hpp"
#include "persistence/queries.hpp"
#include "server/api_error.hpp"

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::server {

// Which events a stream wants (its query's run_id and type filters):
// empty lists mean "all". Checked once per event per subscriber, so types
// are a bit mask.
class stream_filter {
public:
    stream_filter() = default;  // every event
    stream_filter(std::vector<std::string> run_ids, const std::vector<domain::event_type>& types);
    bool matches(const domain::stored_event& ev) const;
    // The same filter for the replay's query (persistence::events_between).
    persistence::offset_filter to_offset_filter() const;

private:
    std::vector<std::string> run_ids_;  // empty: every run
    std::vector<domain::event_type> types_;  // as given, for to_offset_filter
    std::uint32_t type_mask_ = 0;       // bit per event_type; 0: every type
};

// The most `run_id` filters one stream may name (bounds the replay's SQL and
// the per-event filter check).
inline constexpr std::size_t max_stream_run_ids = 100;

struct stream_query {
    std::vector<std::string> run_ids;         // `run_id`, repeatable; empty: every run
    std::vector<domain::event_type> types;    // `type`, repeatable; empty: every type
    std::optional<std::int64_t> last_event_id;  // resume after this offset (>= 0)
    std::optional<std::string> access_token;  // `access_token` (EventSource cannot set headers);
                                              // checked by the caller's auth, not here
};

// Parses `target` (the origin-form request target, "/observability/stream?..."),
// percent-decoding every value ("+" stays "+": nothing here holds spaces,
// and keys may hold "+"), and `last_event_id_header` (the Last-Event-ID
// header's value, nullopt when absent; surrounding blanks are ignored and an
// empty value counts as absent, as EventSource never sends one).
//
// The resume point is the header's when both are given (the header is what
// EventSource sends on reconnect, so it is the newer position); each given
// value must still be valid. Unknown parameters are ignored.
//
// Errors (api_error, bad_request / 400): a target that is not origin-form; a
// `last_event_id` or header value that is not a decimal integer in
// [0, 2^63-1] ("abc", "-1", "+1", "1.5", ""); `last_event_id` or
// `access_token` given twice; a `type` that is not an event type; a `run_id`
// that is not an identifier; more than max_stream_run_ids `run_id`s.
// Read the result with has_value()/operator*/error() (value() would need a
// throw_exception_from_error for api_error, which does not exist).
boost::system::result<stream_query, api_error> parse_stream_query(
    std::string_view target, std::optional<std::string_view> last_event_id_header);

// The filter of `query`.
stream_filter filter_of(const stream_query& query);

// The offset in `text` when it is a plain decimal integer in [0, 2^63-1]
// (digits only, at least one); nullopt otherwise.
std::optional<std::int64_t> parse_offset(std::string_view text);

}  // namespace obs::server
