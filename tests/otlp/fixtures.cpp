// Reading the OTLP fixtures (see fixtures.hpp).
#include "tests/otlp/fixtures.hpp"

#include <boost/json/parse.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace obs::otlp::testing {

std::string read_fixture(const std::string& name) {
    const std::string path = std::string(OBS_OTLP_FIXTURES) + "/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read fixture " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

boost::json::object fixture_ids(const std::string& protocol) {
    return boost::json::parse(read_fixture("agent_trace.ids.json")).as_object().at(protocol).as_object();
}

}  // namespace obs::otlp::testing
