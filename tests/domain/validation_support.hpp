// Helpers shared by the tests of domain/validation.cpp (validation_test,
// validation_parse_test, validation_bad_events_test) and of the fast path
// (plain_batch_test): the body builders (body_builders.hpp), decoding with
// a fixed receive time that fails the test on the spot when the input was
// meant to be good, and the check that the fast path agrees with the full
// decoder on every body decoded.
#pragma once

#include "body_builders.hpp"
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

// The parsed value of `text`; fails the test when it is not valid JSON.
boost::json::value parse_or_fail(std::string_view text);
// decode_event_batch of the text `body`, received at `now`; checks on the way
// that the fast path (plain_batch.hpp) agrees, as expect_fast_path_agrees.
batch_result decode_text(std::string_view body);

// The fast path's verdict on `body` against the full decoder's (`full`):
// when the fast path accepts, the full decoder must have accepted too, with
// equal events (expect_same_event). Returns whether the fast path accepted.
bool expect_fast_path_agrees(std::string_view body, const batch_result& full);
// Every field of two decodings of one event equal (a client's id too), the
// server-made id aside.
void expect_same_event(const event& fast, const event& full);
// Decodes a body expected to hold exactly one good event; fails the test
// otherwise.
event decode_one(const std::string& body);
// `ev` as the writer stores it (offset and seq 1).
stored_event as_stored(const event& ev);

// The violations on one line, for failure messages.
std::string describe(const std::vector<violation>& v);
// True when `v` holds a violation at `index` and `path` whose message
// contains `message`.
bool has_violation(const std::vector<violation>& v, std::size_t index, const std::string& path,
                   const std::string& message);

}  // namespace obs::domain::test
