// The fast path of POST /observability/events: decodes the common body, a
// JSON `{"events": [...]}` whose events all keep the rules, in one streaming
// pass over the text, with no DOM, each payload's compact text written as
// the parser walks it, and every object's keys checked for duplicates
// (plain_batch_keys.hpp).
//
// It only ever accepts: on anything it does not handle, and on any broken
// rule, it declines, and the caller decodes the body again with parse_json
// and decode_event_batch (validation.hpp), which give the verdict and every
// violation. What it accepts, the full decoder accepts too, with equal
// events: the same fields, the same payload text byte for byte, the same run
// facts, the same client ids; only the server-made ids
// differ, being fresh UUIDv7s each time.
// tests/domain/plain_batch_test.cpp checks this on a corpus and on random
// mutations of it.
//
// Why: parsing into a DOM, walking it and serialising each payload again
// was about a fifth of the server's CPU time for batches of 100 events.
#pragma once

#include "domain/event.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace obs::domain {

// The events of `body` when it is a valid `{"events": [...]}` batch of the
// shape this path handles; nullopt when it declines. `now_ms` is the receive
// time, as for decode_event_batch. Declined besides every broken rule:
// `payload` before `type`; a duplicate key anywhere (parse_json refuses
// it); a number that does not fit a finite double; an object
// inside a payload with more than 64 keys; a body key other than `events`.
std::optional<std::vector<event>> decode_plain_batch(std::string_view body, std::int64_t now_ms);

}  // namespace obs::domain
