// Rules for text that does not come through parse_json (which already
// rejects invalid UTF-8): artifact names taken from a URL path segment, and
// the UTF-8 check any such text needs. A valid artifact name is safe to use
// as one file name inside a run's artifact folder.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace obs::domain {

inline constexpr std::size_t max_artifact_name_length = 255;  // bytes, as most file systems allow

// True when `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800-U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text);

// Why `name` cannot name an artifact, or nullopt when it can. A valid name
// is 1-255 bytes of valid UTF-8 without `/`, `\`, NUL or another control
// character (< 0x20, 0x7f), and is neither `.` nor `..`. The reason is a
// short lower-case phrase fit for an error message ("contains '/'").
// REQUIRES: `name` is already percent-decoded.
std::optional<std::string> artifact_name_problem(std::string_view name);

}  // namespace obs::domain
