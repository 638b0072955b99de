// What the two OTLP decoders (protobuf_decoder, json_decoder) share: their
// error value, the counters that bound a request while it is read, and the
// conversions of bytes and doubles into the JSON of trace_data.hpp.
#pragma once

#include "server/otlp/trace_data.hpp"

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace obs::otlp {

// Why a body could not be decoded: answered with 400 and this message.
struct decode_error {
    std::string message;  // short, names the field ("Span.name: wrong wire type")
};

// Lets boost::system::result<T, decode_error>::value() throw.
[[noreturn]] void throw_exception_from_error(const decode_error& e, const boost::source_location& loc);

template <class T>
using decode_result = boost::system::result<T, decode_error>;

// Counts what a request holds while it is decoded, against trace_data.hpp's
// bounds. Each count_* returns the error message once a bound is passed.
struct request_budget {
    std::size_t spans = 0;
    std::size_t values = 0;
    const char* count_span() {
        return ++spans > max_spans_per_request ? "more than 8192 spans in one request" : nullptr;
    }
    const char* count_value() {
        return ++values > max_values_per_request ? "more than 262144 attribute values in one request" : nullptr;
    }
};

// Standard base64 with padding (RFC 4648), as OTLP JSON writes bytes_value.
std::string to_base64(std::string_view bytes);

// A double as attribute JSON: the number, or "NaN"/"Infinity"/"-Infinity".
boost::json::value double_value(double d);

}  // namespace obs::otlp
