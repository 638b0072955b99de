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

// format_rfc3339_ms appended to `out`, without a temporary string (for
// encoders on the hot path). REQUIRES: as format_rfc3339_ms.
void append_rfc3339_ms(std::string& out, std::int64_t unix_ms);

// The first Unix millisecond past what format_rfc3339_ms can write
// (10000-01-01T00:00:00Z): callers check parsed times against [0, this).
inline constexpr std::int64_t rfc3339_ms_limit = 253402300800000;

// Parses an RFC 3339 date-time: `T` or `t` separator, optional fraction of
// any length (truncated to ms), `Z`/`z` or a `+HH:MM`/`-HH:MM` offset.
// Rejects impossible dates (Feb 30), out-of-range fields and trailing text.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace obs::domain
