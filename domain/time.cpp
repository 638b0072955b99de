// RFC 3339 formatting and parsing on Unix milliseconds. The calendar
// arithmetic is std::chrono's (civil dates from day counts and back), so no
// locale, time zone database or `timegm` is involved, and the results do not
// depend on the process's TZ.
#include "domain/time.hpp"

#include <cassert>
#include <chrono>

namespace obs::domain {

namespace {

constexpr std::int64_t ms_per_second = 1000;
constexpr std::int64_t ms_per_minute = 60 * ms_per_second;
constexpr std::int64_t ms_per_hour = 60 * ms_per_minute;
constexpr std::int64_t ms_per_day = 24 * ms_per_hour;

// Writes `value` as exactly `width` decimal digits at `out`.
void put_digits(char* out, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` digits of `text` at `pos`; nullopt when any is not a digit.
std::optional<int> read_digits(std::string_view text, std::size_t pos, std::size_t width) {
    if (pos + width > text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (!is_digit(text[i])) return std::nullopt;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

}  // namespace

std::int64_t now_unix_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void append_rfc3339_ms(std::string& out, std::int64_t unix_ms) {
    assert(unix_ms >= 0 && unix_ms < rfc3339_ms_limit);
    using namespace std::chrono;
    const sys_days day{days{unix_ms / ms_per_day}};
    const year_month_day ymd{day};
    std::int64_t rest = unix_ms % ms_per_day;

    // "YYYY-MM-DDTHH:MM:SS.mmmZ": 24 characters, digits written in place.
    const std::size_t at = out.size();
    out.append("0000-00-00T00:00:00.000Z");
    char* p = out.data() + at;
    put_digits(p, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
    put_digits(p + 5, static_cast<unsigned>(ymd.month()), 2);
    put_digits(p + 8, static_cast<unsigned>(ymd.day()), 2);
    put_digits(p + 11, static_cast<unsigned>(rest / ms_per_hour), 2);
    rest %= ms_per_hour;
    put_digits(p + 14, static_cast<unsigned>(rest / ms_per_minute), 2);
    rest %= ms_per_minute;
    put_digits(p + 17, static_cast<unsigned>(rest / ms_per_second), 2);
    put_digits(p + 20, static_cast<unsigned>(rest % ms_per_second), 3);
}

std::string format_rfc3339_ms(std::int64_t unix_ms) {
    std::string out;
    out.reserve(24);
    append_rfc3339_ms(out, unix_ms);
    return out;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
    // The fixed-width part: YYYY-MM-DDTHH:MM:SS (19 characters).
    if (text.size() < 20) return std::nullopt;
    if (text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
        text[16] != ':')
        return std::nullopt;
    const auto y = read_digits(text, 0, 4), mo = read_digits(text, 5, 2), d = read_digits(text, 8, 2);
    const auto h = read_digits(text, 11, 2), mi = read_digits(text, 14, 2), s = read_digits(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
    // Unix time has no leap seconds, so second 60 is rejected with the rest.
    if (*h > 23 || *mi > 59 || *s > 59) return std::nullopt;

    using namespace std::chrono;
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;  // month 13, Feb 30, Feb 29 of a common year, ...

    // Fraction of any length: the first three digits count, the rest must
    // still be digits.
    std::size_t pos = 19;
    std::int64_t fraction_ms = 0;
    if (text[pos] == '.') {
        ++pos;
        const std::size_t first = pos;
        while (pos < text.size() && is_digit(text[pos])) {
            if (pos - first < 3) fraction_ms = fraction_ms * 10 + (text[pos] - '0');
            ++pos;
        }
        if (pos == first) return std::nullopt;
        for (std::size_t n = pos - first; n < 3; ++n) fraction_ms *= 10;
    }

    // Zone: Z or a numeric offset; local time = UTC + offset.
    if (pos >= text.size()) return std::nullopt;
    std::int64_t offset_ms = 0;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
        const auto oh = read_digits(text, pos + 1, 2), om = read_digits(text, pos + 4, 2);
        if (!oh || !om || text[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
        offset_ms = *oh * ms_per_hour + *om * ms_per_minute;
        if (text[pos] == '-') offset_ms = -offset_ms;
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;

    const std::int64_t day_count = sys_days{ymd}.time_since_epoch().count();
    return day_count * ms_per_day + *h * ms_per_hour + *mi * ms_per_minute + *s * ms_per_second +
           fraction_ms - offset_ms;
}

}  // namespace obs::domain
