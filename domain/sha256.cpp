// SHA-256 as FIPS 180-4 defines it: 64-byte blocks, big-endian words, the
// message padded with 0x80, zeros and the 64-bit bit length. Incremental so
// that large inputs (artifacts, backups) are hashed as they stream by. The
// block function is here in portable C++; sha256_shani.cpp has the faster
// one, used when the CPU has it.
#include "domain/sha256.hpp"

#include "domain/sha256_blocks.hpp"

#include <algorithm>
#include <cstring>

namespace obs::domain {

namespace {

// The first 32 bits of the fractional parts of the square roots of the first
// 8 primes (FIPS 180-4, 5.3.3).
constexpr std::array<std::uint32_t, 8> initial_state = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

std::uint32_t load_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// One 64-byte block through the compression function (FIPS 180-4, 6.2.2).
void compress_one(detail::sha256_state& state, const std::uint8_t* block) {
    std::array<std::uint32_t, 64> w;
    for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; ++t) {
        const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
        const std::uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        const std::uint32_t ch = (e & f) ^ (~e & g);
        const std::uint32_t t1 = h + big_s1 + ch + detail::sha256_round_constants[t] + w[t];
        const std::uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        const std::uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        const std::uint32_t t2 = big_s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

}  // namespace

namespace detail {

void sha256_blocks_portable(sha256_state& state, const std::uint8_t* blocks, std::size_t count) {
    for (; count > 0; --count, blocks += 64) compress_one(state, blocks);
}

}  // namespace detail

sha256::sha256() : state_(initial_state), buffer_{} {}

void sha256::compress_(const std::uint8_t* blocks, std::size_t count) {
    static const bool extensions = detail::sha256_extensions_available();
    if (extensions) {
        detail::sha256_blocks_shani(state_, blocks, count);
    } else {
        detail::sha256_blocks_portable(state_, blocks, count);
    }
}

void sha256::update(const void* data, std::size_t n) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    total_bytes_ += n;
    // Top up a partial block first, then compress whole blocks straight from
    // the input without copying, and keep the tail for later.
    if (buffered_ > 0) {
        const std::size_t take = std::min(n, buffer_.size() - buffered_);
        std::memcpy(buffer_.data() + buffered_, p, take);
        buffered_ += take;
        p += take;
        n -= take;
        if (buffered_ < buffer_.size()) return;
        compress_(buffer_.data(), 1);
        buffered_ = 0;
    }
    const std::size_t whole_blocks = n / buffer_.size();
    if (whole_blocks > 0) {
        compress_(p, whole_blocks);
        p += whole_blocks * buffer_.size();
        n -= whole_blocks * buffer_.size();
    }
    if (n > 0) {
        std::memcpy(buffer_.data(), p, n);
        buffered_ = n;
    }
}

std::array<std::uint8_t, 32> sha256::finish() {
    const std::uint64_t bit_length = total_bytes_ * 8;
    // Padding: 0x80, zeros up to 56 mod 64, then the length big-endian.
    buffer_[buffered_++] = 0x80;
    if (buffered_ > 56) {
        std::memset(buffer_.data() + buffered_, 0, buffer_.size() - buffered_);
        compress_(buffer_.data(), 1);
        buffered_ = 0;
    }
    std::memset(buffer_.data() + buffered_, 0, 56 - buffered_);
    for (int i = 0; i < 8; ++i) buffer_[56 + i] = static_cast<std::uint8_t>(bit_length >> (56 - 8 * i));
    compress_(buffer_.data(), 1);
    buffered_ = 0;

    std::array<std::uint8_t, 32> digest;
    for (int i = 0; i < 8; ++i) {
        digest[4 * i] = static_cast<std::uint8_t>(state_[i] >> 24);
        digest[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
        digest[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
        digest[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
    }
    return digest;
}

std::string sha256::finish_hex() {
    static constexpr char hex_digits[] = "0123456789abcdef";
    const auto digest = finish();
    std::string out(64, '\0');
    for (std::size_t i = 0; i < digest.size(); ++i) {
        out[2 * i] = hex_digits[digest[i] >> 4];
        out[2 * i + 1] = hex_digits[digest[i] & 0x0f];
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    sha256 h;
    h.update(data);
    return h.finish_hex();
}

}  // namespace obs::domain
