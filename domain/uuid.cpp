// UUIDv7 (RFC 9562, 5.7) with the "fixed bit-length dedicated counter"
// method (6.2, method 1): the 12 rand_a bits are a per-thread counter that
// starts at a random value in each new millisecond, so ids of one thread
// sort in creation order even within a millisecond.
#include "domain/uuid.hpp"

#include <array>
#include <cstddef>
#include <random>

namespace obs::domain {

namespace {

constexpr std::uint64_t timestamp_mask = (std::uint64_t{1} << 48) - 1;
constexpr unsigned counter_limit = 1u << 12;  // rand_a holds 12 bits
// A new millisecond starts its counter below half the range, leaving at
// least 2048 increments before the counter would overflow.
constexpr unsigned counter_start_range = counter_limit / 2;
// A clock that steps back by at most this much (or a counter overflow that
// borrowed the next millisecond) keeps the previous time so ids stay
// increasing; a larger jump is taken as a new time base.
constexpr std::int64_t max_clock_step_back_ms = 10'000;

// Per-thread generator state: no locks, and each thread's ids are ordered.
struct generator_state {
    std::mt19937_64 engine;
    std::int64_t last_ms = -1;  // the time field of the previous id
    unsigned counter = 0;       // the rand_a of the previous id

    generator_state() {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
        engine.seed(seed);
    }
};

generator_state& thread_generator() {
    thread_local generator_state state;
    return state;
}

}  // namespace

std::string make_uuid_v7(std::int64_t unix_ms) {
    generator_state& g = thread_generator();
    const bool continues = g.last_ms >= 0 && unix_ms <= g.last_ms && g.last_ms - unix_ms <= max_clock_step_back_ms;
    if (continues) {
        if (++g.counter == counter_limit) {
            // Counter exhausted: borrow the next millisecond (RFC 9562 6.2).
            ++g.last_ms;
            g.counter = static_cast<unsigned>(g.engine() % counter_start_range);
        }
    } else {
        g.last_ms = unix_ms;
        g.counter = static_cast<unsigned>(g.engine() % counter_start_range);
    }

    const std::uint64_t ms = static_cast<std::uint64_t>(g.last_ms) & timestamp_mask;
    const std::uint64_t rand_b = g.engine();
    std::array<std::uint8_t, 16> bytes;
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
    bytes[6] = static_cast<std::uint8_t>(0x70 | (g.counter >> 8));  // version 7
    bytes[7] = static_cast<std::uint8_t>(g.counter & 0xff);
    bytes[8] = static_cast<std::uint8_t>(0x80 | ((rand_b >> 56) & 0x3f));  // variant 10
    for (int i = 9; i < 16; ++i) bytes[i] = static_cast<std::uint8_t>(rand_b >> (8 * (15 - i)));

    // Formatted into a fixed buffer and copied out once: a 36-character id
    // is made for every event the client sent without one.
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::array<char, 36> text;
    std::size_t at = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text[at++] = '-';
        text[at++] = hex_digits[bytes[i] >> 4];
        text[at++] = hex_digits[bytes[i] & 0x0f];
    }
    return std::string(text.data(), text.size());
}

}  // namespace obs::domain
