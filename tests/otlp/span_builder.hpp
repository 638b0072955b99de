// A decoded span (otlp::span, what both OTLP decoders produce) for the
// mapper's tests, with every field the tables vary given by the caller.
// Test support only.
#pragma once

#include "server/otlp/trace_data.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace obs::otlp::testing {

struct span_times {
    std::uint64_t start_ns = 0;
    std::uint64_t end_ns = 0;
};

inline otlp::span test_span(std::string trace_id, std::string span_id, std::string parent, std::string name, int kind,
                            span_times times, boost::json::object attributes, int status = 0,
                            std::string status_message = "") {
    otlp::span s;
    s.trace_id = std::move(trace_id);
    s.span_id = std::move(span_id);
    s.parent_span_id = std::move(parent);
    s.name = std::move(name);
    s.kind = kind;
    s.start_time_unix_nano = times.start_ns;
    s.end_time_unix_nano = times.end_ns;
    s.attributes = std::move(attributes);
    s.status = status;
    s.status_message = std::move(status_message);
    return s;
}

}  // namespace obs::otlp::testing
