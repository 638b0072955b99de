// Decoding and validation of client input against the contract of
// design/API.md. Every rule is checked and every violation of a batch is
// reported (not just the first), each with the event's index and a field path
// such as `payload.arguments` or `payload.tags[3]`. Pure code: no I/O.
#pragma once

#include "domain/event.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::domain {

inline constexpr std::size_t max_batch_events = 1000;
inline constexpr std::size_t max_id_length = 128;
inline constexpr std::size_t max_node_length = 128;
inline constexpr std::size_t max_text_length = 1024 * 1024;  // any other string field
inline constexpr std::size_t max_json_depth = 64;            // nesting of any payload value
inline constexpr std::size_t max_tags = 32;
inline constexpr std::size_t max_metadata_keys = 64;

// One broken rule. `index` is the event's position in the batch (0 for a
// single-object route); `path` is relative to the event (`run_id`,
// `payload.tool`, `payload.tags[3]`), or empty for the whole body.
struct violation {
    std::size_t index = 0;
    std::string path;
    std::string message;  // short, lower case: "required", "unknown field", ...
};

// A body that is not JSON: where and why.
struct json_error {
    std::size_t byte_offset = 0;  // into the whole body
    std::string message;
};

// Parses `text` as one JSON value (json_text.cpp). Rejects invalid UTF-8 and
// a duplicate key in any object (the message names the key and its path,
// `duplicate key "x" at events[0].payload.arguments.x`); nesting is capped
// generously (the precise 64-level rule is a validation violation with a
// path, not a parse error). A number too large for a double is kept as
// Boost.JSON reads it (infinity, or NaN for 0e400): decode_event and
// validate_payload report it at its field. Returns the value or the error. The value's memory comes from
// `storage` (default: the heap): a caller that drops the value soon passes a
// monotonic arena, which makes building and freeing it much cheaper.
struct parse_result {
    std::optional<boost::json::value> value;
    std::optional<json_error> error;
};
parse_result parse_json(std::string_view text, boost::json::storage_ptr storage = {});

// Parses an NDJSON body: one JSON value per non-empty line. On error the
// byte offset is into the whole body and the message names the line (1-based).
// Every value's memory comes from `storage`, as with parse_json.
struct ndjson_result {
    std::vector<boost::json::value> values;
    std::optional<json_error> error;
};
ndjson_result parse_ndjson(std::string_view text, boost::json::storage_ptr storage = {});

// The outcome of decoding a batch: either every event (violations empty) or
// every violation found (events then unspecified and must not be stored).
struct batch_result {
    std::vector<event> events;
    std::vector<violation> violations;
    bool ok() const { return violations.empty(); }
};

// Decodes one event envelope (API.md "Envelope") at position `index`.
// `now_ms` is the receive time (used for `ts` when absent and for the UUIDv7
// when `id` is absent). `forced_run_id`, when set, is the run of a
// /runs/{run_id}/steps route: the event must not carry a different `run_id`
// (it may omit it). Clients may not post `artifact` (violation on `type`).
// Appends violations; returns the event when it had none.
std::optional<event> decode_event(const boost::json::value& v, std::size_t index, std::int64_t now_ms,
                                  std::vector<violation>& out,
                                  std::optional<std::string_view> forced_run_id = std::nullopt);

// Decodes `{"events": [...]}` (1-1000 events; no other top-level key).
batch_result decode_event_batch(const boost::json::value& body, std::int64_t now_ms);

// Decodes already-split values (NDJSON lines, `{"steps": [...]}` items, or a
// single step) as a batch: 1-1000 events, each via decode_event.
batch_result decode_event_list(const std::vector<boost::json::value>& items, std::int64_t now_ms,
                               std::optional<std::string_view> forced_run_id = std::nullopt);

// Validates a payload of `type` (the object under `payload`); paths in the
// violations start with "payload.". Exposed for POST /runs and /finish.
void validate_payload(event_type type, const boost::json::value& payload, std::size_t index,
                      std::vector<violation>& out);

// The JSON text of a violation list, as the `details` array of an error body.
boost::json::array violations_to_json(const std::vector<violation>& v);

}  // namespace obs::domain
