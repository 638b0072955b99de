// RFC 3339 times with millisecond precision, as the contract uses them
// (`2026-11-27T22:04:05.123Z`), and the current time. Times travel inside
// the program as Unix milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obs::domain {

// Current wall-clock time in Unix milliseconds.
std::int64_t now_unix_ms();

// Formats as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, always three fraction digits).
// REQUIRES: 0 <= ms < year 10000.
std::string format_rfc3339_ms(std::int64_t unix_ms);

// Parses an RFC 3339 date-time: `T` or `t` separator, optional fraction of
// any length (truncated to ms), `Z`/`z` or a `+HH:MM`/`-HH:MM` offset.
// Rejects impossible dates (Feb 30), out-of-range fields and trailing text.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace obs::domain
