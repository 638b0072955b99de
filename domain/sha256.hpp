// SHA-256 (FIPS 180-4), incremental. Used for migration
// checksums, backup manifests and artifact addresses. Pure code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obs::domain {

class sha256 {
public:
    sha256();
    // Feeds `n` more bytes.
    void update(const void* data, std::size_t n);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // Ends the hash; the object must not be updated afterwards.
    std::array<std::uint8_t, 32> finish();
    // finish() as 64 lower-case hex digits.
    std::string finish_hex();

private:
    // Runs `count` whole 64-byte blocks, on the SHA extensions when the CPU
    // has them (sha256_blocks.hpp).
    void compress_(const std::uint8_t* blocks, std::size_t count);
    std::array<std::uint32_t, 8> state_;  // running hash value
    std::array<std::uint8_t, 64> buffer_;  // the partial block not yet compressed
    std::size_t buffered_ = 0;             // bytes used in buffer_
    std::uint64_t total_bytes_ = 0;        // message length so far
};

// The hex digest of `data` in one call.
std::string sha256_hex(std::string_view data);

}  // namespace obs::domain
