// The table of bad events: one row per rule of the envelope, of every
// event type's payload and of the batch's shape, each a whole request body
// with the one violation it must get (event index, field path and a part of
// the message), and no other. validation_bad_events_test checks domain's
// decoder against it; obs_dump_bad_events prints it as JSON for the Python
// SDK's parity test, so both use the one table.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace obs::domain::test {

struct bad_case {
    std::string body;
    std::size_t index;
    std::string path;
    std::string message;  // substring
};

// Every row, in a fixed order.
std::vector<bad_case> bad_cases();

}  // namespace obs::domain::test
