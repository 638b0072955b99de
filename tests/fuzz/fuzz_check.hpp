// What the fuzz harnesses share: a check that aborts with a message (so
// libFuzzer records the input as a crash, and the replay build fails the
// test), and the test of a stored payload's text: it must be JSON that
// parses back (strictly: no duplicate key) with only finite numbers, since
// read routes and the stream send it verbatim.
#pragma once

#include "domain/validation.hpp"

#include <boost/json/value.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace obs::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz check failed: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
    std::abort();
}

inline void check(bool ok, const char* what, std::string_view detail = {}) {
    if (!ok) fail(what, detail);
}

inline bool all_finite(const boost::json::value& v) {
    if (const auto* d = v.if_double()) return std::isfinite(*d);
    if (const auto* a = v.if_array()) {
        for (const auto& e : *a)
            if (!all_finite(e)) return false;
    }
    if (const auto* o = v.if_object()) {
        for (const auto& kv : *o)
            if (!all_finite(kv.value())) return false;
    }
    return true;
}

// A stored JSON text (a payload, tags, metadata): valid, an object when
// `object`, only finite numbers.
inline void check_stored_json(std::string_view text, bool object, const char* what) {
    const auto parsed = domain::parse_json(text);
    check(parsed.value.has_value(), what, text);
    check(!object || parsed.value->is_object(), what, text);
    check(all_finite(*parsed.value), what, text);
}

}  // namespace obs::fuzz
