// Helpers of the validation tests (see validation_support.hpp).
#include "validation_support.hpp"

#include <boost/test/unit_test.hpp>

namespace obs::domain::test {

namespace json = boost::json;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string event_with(const std::string& type, const std::string& payload) {
    return R"({"run_id":"r1","type":")" + type + R"(","payload":)" + payload + "}";
}

std::string batch_of(const std::vector<std::string>& events) {
    std::string body = R"({"events":[)";
    for (std::size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
    return body + "]}";
}

std::string one(const std::string& event) { return batch_of({event}); }

const std::string good_thought = event_with("thought", R"({"text":"hi"})");
const std::string too_long_text(domain::max_text_length + 1, 'x');
const std::string longest_text(domain::max_text_length, 'x');

std::string nested_arrays(std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

std::string nested_objects(std::size_t levels) {
    std::string s;
    for (std::size_t i = 1; i < levels; ++i) s += R"({"a":)";
    s += "{}";
    return s + std::string(levels - 1, '}');
}

std::string string_array(std::size_t n) {
    std::string s = "[";
    for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + quoted("t" + std::to_string(i));
    return s + "]";
}

std::string string_map(std::size_t n) {
    std::string s = "{";
    for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + quoted("k" + std::to_string(i)) + ":\"v\"";
    return s + "}";
}

json::value parse_or_fail(std::string_view text) {
    auto parsed = domain::parse_json(text);
    BOOST_TEST_REQUIRE(!parsed.error.has_value(), "parse error: " << parsed.error->message);
    return std::move(*parsed.value);
}

domain::batch_result decode_text(std::string_view body) {
    return domain::decode_event_batch(parse_or_fail(body), now);
}

std::string describe(const std::vector<domain::violation>& v) {
    std::string s;
    for (const auto& x : v) s += "[" + std::to_string(x.index) + " " + x.path + ": " + x.message + "] ";
    return s;
}

bool has_violation(const std::vector<domain::violation>& v, std::size_t index, const std::string& path,
                   const std::string& message) {
    for (const auto& x : v)
        if (x.index == index && x.path == path && x.message.find(message) != std::string::npos) return true;
    return false;
}

domain::event decode_one(const std::string& body) {
    auto result = decode_text(body);
    BOOST_TEST_REQUIRE(result.ok(), describe(result.violations));
    BOOST_TEST_REQUIRE(result.events.size() == 1u);
    return std::move(result.events.front());
}

}  // namespace obs::domain::test
