// Fuzz harness: NDJSON bodies (parse_ndjson + decode_event_list): an error's
// offset lies within the body and names a line; accepted events' stored
// texts are valid JSON with only finite numbers.
#include "domain/validation.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto lines = obs::domain::parse_ndjson(body);
    if (lines.error) {
        obs::fuzz::check(lines.values.empty(), "values kept beside an error");
        obs::fuzz::check(lines.error->byte_offset <= size, "offset past the end");
        obs::fuzz::check(lines.error->message.starts_with("line "), "message names no line", lines.error->message);
        return 0;
    }
    if (lines.values.empty()) return 0;
    const auto decoded = obs::domain::decode_event_list(lines.values, 1795817045123);
    if (!decoded.ok()) return 0;
    obs::fuzz::check(decoded.events.size() == lines.values.size(), "one event per line");
    for (const auto& ev : decoded.events)
        obs::fuzz::check_stored_json(ev.payload_json, true, "stored payload is not finite JSON");
    return 0;
}
