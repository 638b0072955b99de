// obs_dump_bad_events: prints the bad-event table (bad_events_table.hpp) as
// JSON, [{"body", "index", "path", "message", "server_message"}, ...], for
// the Python SDK's parity test (tests/sdk/python). `message` is the table's
// expected part of the message; `server_message` is the whole message
// domain's decoder answers for the row today, so the SDK can be held to the
// exact words. Exits 1 when a row does not get exactly its one violation
// (the unit_domain suite then fails too, with the details).
#include "bad_events_table.hpp"

#include "domain/validation.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <iostream>

namespace domain = obs::domain;

int main() {
    constexpr std::int64_t receive_ms = 1795817045123;
    boost::json::array rows;
    for (const auto& c : domain::test::bad_cases()) {
        auto parsed = domain::parse_json(c.body);
        if (!parsed.value) {
            std::cerr << "obs_dump_bad_events: a row's body is not JSON: " << c.body.substr(0, 120) << "\n";
            return 1;
        }
        const auto result = domain::decode_event_batch(*parsed.value, receive_ms);
        if (result.violations.size() != 1 || result.violations.front().path != c.path ||
            result.violations.front().index != c.index) {
            std::cerr << "obs_dump_bad_events: the row " << c.body.substr(0, 120) << " does not get its one violation "
                      << c.index << " " << c.path << "\n";
            return 1;
        }
        rows.push_back(boost::json::object{{"body", c.body},
                                           {"index", c.index},
                                           {"path", c.path},
                                           {"message", c.message},
                                           {"server_message", result.violations.front().message}});
    }
    std::cout << boost::json::serialize(rows) << "\n";
    return std::cout ? 0 : 1;
}
