// Fuzz harness: RFC 3339 times (domain/time.hpp). A time that parses and is
// in the range the server stores formats to the 24-byte form, which parses
// back to the same millisecond; a formatted time is itself accepted.
#include "domain/time.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto ms = obs::domain::parse_rfc3339(text);
    if (!ms || *ms < 0 || *ms >= obs::domain::rfc3339_ms_limit) return 0;
    const std::string formatted = obs::domain::format_rfc3339_ms(*ms);
    obs::fuzz::check(formatted.size() == 24 && formatted.back() == 'Z', "formatted shape", formatted);
    const auto again = obs::domain::parse_rfc3339(formatted);
    obs::fuzz::check(again && *again == *ms, "format/parse round trip", formatted);
    return 0;
}
