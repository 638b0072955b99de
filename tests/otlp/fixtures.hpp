// Access to tests/otlp/fixtures/: request bodies the real OpenTelemetry JS
// exporters sent (captured by capture_bodies.cjs) and the ids each run
// printed. OBS_OTLP_FIXTURES is the folder, set by tests/otlp/CMakeLists.txt.
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace obs::otlp::testing {

// The bytes of fixtures/<name>; throws when it cannot be read.
std::string read_fixture(const std::string& name);

// The ids the `protocol` run ("json" or "proto") printed:
// {"trace_id", "spans": {"root", "chat1", "search", "http", "fetch", "chat2"}}.
boost::json::object fixture_ids(const std::string& protocol);

}  // namespace obs::otlp::testing
