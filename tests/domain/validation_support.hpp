// Helpers shared by the tests of domain/validation.cpp (validation_test,
// validation_parse_test, validation_bad_events_test) and of the fast path
// (plain_batch_test): builders of request bodies in plain ASCII (so no
// escaping is needed), JSON of chosen depth and size for the bounds,
// decoding with a fixed receive time that fails the test on the spot when
// the input was meant to be good, and the check that the fast path agrees
// with the full decoder on every body decoded.
#pragma once

#include "domain/plain_batch.hpp"
#include "domain/validation.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obs::domain::test {

inline constexpr std::int64_t now = 1795817045123;  // 2026-11-27T22:04:05.123Z; the receive time

std::string quoted(const std::string& s);  // "s"

// {"run_id":"r1","type":<type>,"payload":<payload>}
std::string event_with(const std::string& type, const std::string& payload);
// {"events":[<events>...]}
std::string batch_of(const std::vector<std::string>& events);
// A batch of the one event.
std::string one(const std::string& event);

extern const std::string good_thought;   // a valid thought event of run r1
extern const std::string too_long_text;  // one byte over max_text_length
extern const std::string longest_text;   // exactly max_text_length

// `levels` nested arrays: 1 gives [], 2 gives [[]].
std::string nested_arrays(std::size_t levels);
// `levels` nested objects: 1 gives {}, 2 gives {"a":{}}. REQUIRES: levels >= 1.
std::string nested_objects(std::size_t levels);
// A JSON array of `n` distinct strings.
std::string string_array(std::size_t n);
// A JSON object of `n` string members.
std::string string_map(std::size_t n);

// The parsed value of `text`; fails the test when it is not valid JSON.
boost::json::value parse_or_fail(std::string_view text);
// decode_event_batch of the text `body`, received at `now`; checks on the way
// that the fast path (plain_batch.hpp) agrees, as expect_fast_path_agrees.
batch_result decode_text(std::string_view body);

// The fast path's verdict on `body` against the full decoder's (`full`):
// when the fast path accepts, the full decoder must have accepted too, with
// equal events (expect_same_event). Returns whether the fast path accepted.
bool expect_fast_path_agrees(std::string_view body, const batch_result& full);
// Every field of two decodings of one event equal, the server-made id aside.
void expect_same_event(const event& fast, const event& full);
// Decodes a body expected to hold exactly one good event; fails the test
// otherwise.
event decode_one(const std::string& body);

// The violations on one line, for failure messages.
std::string describe(const std::vector<violation>& v);
// True when `v` holds a violation at `index` and `path` whose message
// contains `message`.
bool has_violation(const std::vector<violation>& v, std::size_t index, const std::string& path,
                   const std::string& message);

}  // namespace obs::domain::test
