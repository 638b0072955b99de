// Fuzz harness: artifact names (domain/artifact_name.hpp). A name accepted
// is safe as one file name: 1-255 bytes of valid UTF-8, no '/', '\', NUL or
// other control character, not "." or "..". is_valid_utf8 agrees with a
// decoder written here from RFC 3629's table.
#include "domain/artifact_name.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

// RFC 3629, section 4: the well-formed byte sequences.
bool utf8_by_table(std::string_view s) {
    std::size_t i = 0;
    auto in = [&](std::size_t k, unsigned lo, unsigned hi) {
        if (i + k >= s.size()) return false;
        const auto b = static_cast<unsigned char>(s[i + k]);
        return b >= lo && b <= hi;
    };
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        if (b <= 0x7F) n = 1;
        else if (b >= 0xC2 && b <= 0xDF) n = in(1, 0x80, 0xBF) ? 2 : 0;
        else if (b == 0xE0) n = in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
        else if (b == 0xED) n = in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
        else if (b == 0xF0) n = in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
        else if (b >= 0xF1 && b <= 0xF3) n = in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
        else if (b == 0xF4) n = in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view name(reinterpret_cast<const char*>(data), size);
    const bool utf8 = obs::domain::is_valid_utf8(name);
    obs::fuzz::check(utf8 == utf8_by_table(name), "is_valid_utf8 disagrees with RFC 3629's table");
    const auto problem = obs::domain::artifact_name_problem(name);
    if (problem) {
        obs::fuzz::check(!problem->empty(), "an empty reason");
        return 0;
    }
    obs::fuzz::check(utf8, "accepted invalid UTF-8");
    obs::fuzz::check(!name.empty() && name.size() <= obs::domain::max_artifact_name_length, "accepted a bad length");
    obs::fuzz::check(name != "." && name != "..", "accepted . or ..");
    for (const char c : name) {
        const auto b = static_cast<unsigned char>(c);
        obs::fuzz::check(c != '/' && c != '\\' && b >= 0x20 && b != 0x7F, "accepted a separator or control");
    }
    return 0;
}
