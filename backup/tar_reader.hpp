// A streaming ustar reader, sans-io: bytes go in by feed() in pieces of any
// size, members come out through callbacks (header, body pieces, end), so a
// restore untars while it downloads and gunzips, holding one block at most.
// It checks each header's checksum and reads GNU base-256 sizes.
#pragma once

#include "backup/tar_writer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace obs::backup {

// A member's header as read.
struct tar_member {
    std::string name;        // prefix + '/' + name when the prefix is set
    std::uint64_t size = 0;  // body bytes (0 for folders)
    std::int64_t mtime = 0;
    std::uint32_t mode = 0;
    char typeflag = '0';     // '0' (or NUL) regular file, '5' folder, ...
};

// The fields of one 512-byte header. Throws tar_error on a bad checksum, a
// missing "ustar" magic or a malformed number.
tar_member decode_ustar_header(const char* block);

class tar_reader {
public:
    struct callbacks {
        std::function<void(const tar_member&)> on_member;           // a header was read
        std::function<void(const char* data, std::size_t n)> on_data;  // body bytes, in order
        std::function<void()> on_member_end;                          // the body is complete
    };

    explicit tar_reader(callbacks cb);

    // Consumes `n` more bytes of the archive. Throws tar_error on a malformed
    // archive or non-zero bytes after its end; callbacks' exceptions propagate.
    void feed(const char* data, std::size_t n);

    // True once the end-of-archive marker (two zero blocks) was read.
    bool done() const noexcept { return state_ == state::end; }

    // Throws tar_error unless done(): the archive was cut short.
    void finish() const;

private:
    enum class state { header, body, padding, second_zero, end };

    void on_header_block_();

    callbacks cb_;
    state state_ = state::header;
    std::array<char, tar_block_size> block_{};  // a header being assembled
    std::size_t filled_ = 0;                    // bytes in block_
    std::uint64_t remaining_ = 0;               // body or padding bytes left
    std::uint64_t member_size_ = 0;             // size of the current member
};

}  // namespace obs::backup
