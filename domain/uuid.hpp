// UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids
// made by the server sort by creation time.
#pragma once

#include <cstdint>
#include <string>

namespace obs::domain {

// A new UUIDv7 for time `unix_ms`, in the canonical 8-4-4-4-12 lower-case
// hex form. Thread-safe (a thread-local random engine seeded from
// std::random_device). Ids made in the same millisecond by one thread are
// increasing (a per-thread counter fills the 12 `rand_a` bits).
std::string make_uuid_v7(std::int64_t unix_ms);

}  // namespace obs::domain
