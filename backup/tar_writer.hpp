// A streaming ustar (POSIX.1-1988) tar writer, sans-io: it turns members into
// 512-byte blocks handed to a sink, so the same code feeds gzip on the backup
// worker or a buffer in a test. Only regular files are written; names longer
// than 100 bytes are split into the ustar prefix field; sizes past the
// 11-digit octal limit (8 GiB) use the base-256 form GNU tar reads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace obs::backup {

inline constexpr std::size_t tar_block_size = 512;

// A malformed archive, or a member the format cannot represent.
class tar_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A regular file as a tar member.
struct tar_entry {
    std::string name;        // relative path, '/'-separated, no leading '/'
    std::uint64_t size = 0;  // bytes of the body
    std::int64_t mtime = 0;  // Unix seconds
    std::uint32_t mode = 0644;
};

// The 512-byte ustar header of `entry` (typeflag '0', magic "ustar\0",
// version "00", checksum filled in). Throws tar_error when the name is empty,
// absolute, or too long for name (100) + prefix (155) split at a '/'.
std::array<char, tar_block_size> encode_ustar_header(const tar_entry& entry);

// The number of zero bytes that pad a body of `size` bytes to a block.
std::size_t tar_padding(std::uint64_t size);

// Writes members one after another into a sink.
//
// Usage: begin_member, write (exactly entry.size bytes in total), end_member,
// ...; finish. Not thread-safe; the sink's exceptions propagate.
class tar_writer {
public:
    using sink = std::function<void(const char* data, std::size_t n)>;

    explicit tar_writer(sink out);

    // Emits the header. REQUIRES: no member open. Throws tar_error.
    void begin_member(const tar_entry& entry);
    // Emits body bytes. Throws tar_error past the declared size.
    void write(const char* data, std::size_t n);
    // Pads the body to a block. Throws tar_error when the body is short.
    void end_member();
    // Emits the two zero blocks that end an archive. REQUIRES: no member open.
    void finish();

    // Bytes emitted so far.
    std::uint64_t bytes_written() const noexcept { return written_; }

private:
    void emit_(const char* data, std::size_t n);

    sink out_;
    bool open_ = false;           // a member is between begin and end
    std::uint64_t remaining_ = 0; // body bytes still expected
    std::uint64_t size_ = 0;      // declared size of the open member
    std::uint64_t written_ = 0;   // total bytes emitted
};

}  // namespace obs::backup
