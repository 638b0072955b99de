// Builders of request bodies for the validation tests, in plain ASCII (so
// no escaping is needed), and JSON of chosen depth and size for the bounds.
// Pure string code without Boost.Test, so the bad-event table
// (bad_events_table.hpp) can be compiled into tools as well as tests.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace obs::domain::test {

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

}  // namespace obs::domain::test
