// Builders of request bodies (see body_builders.hpp).
#include "body_builders.hpp"

#include "domain/validation.hpp"

namespace obs::domain::test {

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
const std::string too_long_text(max_text_length + 1, 'x');
const std::string longest_text(max_text_length, 'x');

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

}  // namespace obs::domain::test
