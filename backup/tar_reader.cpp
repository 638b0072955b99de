// Header decoding and the streaming reader's state machine (see tar_reader.hpp).
#include "backup/tar_reader.hpp"

#include <algorithm>
#include <cstring>

namespace obs::backup {

namespace {

// Reads an octal field (leading spaces allowed, ends at NUL or space), or a
// base-256 one (high bit of the first byte set).
std::uint64_t get_number(const char* field, std::size_t width, const char* what) {
    const auto* u = reinterpret_cast<const unsigned char*>(field);
    if (u[0] & 0x80) {
        if (u[0] != 0x80) throw tar_error(std::string("tar header: negative or huge ") + what);
        std::uint64_t v = 0;
        for (std::size_t i = 1; i < width; ++i) {
            if (i < width - 8 && u[i] != 0) throw tar_error(std::string("tar header: ") + what + " too large");
            v = (v << 8) | u[i];
        }
        return v;
    }
    std::size_t i = 0;
    while (i < width && field[i] == ' ') ++i;
    std::uint64_t v = 0;
    bool any = false;
    for (; i < width && field[i] != '\0' && field[i] != ' '; ++i) {
        if (field[i] < '0' || field[i] > '7') throw tar_error(std::string("tar header: bad octal ") + what);
        v = (v << 3) | static_cast<std::uint64_t>(field[i] - '0');
        any = true;
    }
    if (!any && what == std::string_view("checksum")) throw tar_error("tar header: empty checksum");
    return v;
}

std::string get_string(const char* field, std::size_t width) {
    return std::string(field, strnlen(field, width));
}

bool all_zero(const char* data, std::size_t n) {
    return std::all_of(data, data + n, [](char c) { return c == '\0'; });
}

}  // namespace

tar_member decode_ustar_header(const char* block) {
    if (std::memcmp(block + 257, "ustar", 5) != 0) throw tar_error("tar header: not a ustar header");
    const std::uint64_t stored = get_number(block + 148, 8, "checksum");
    // Unsigned sum as POSIX says; some old writers summed signed chars.
    std::uint64_t unsigned_sum = 0;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < tar_block_size; ++i) {
        const char c = (i >= 148 && i < 156) ? ' ' : block[i];
        unsigned_sum += static_cast<unsigned char>(c);
        signed_sum += static_cast<signed char>(c);
    }
    if (stored != unsigned_sum && static_cast<std::int64_t>(stored) != signed_sum) {
        throw tar_error("tar header: checksum mismatch");
    }
    tar_member m;
    const std::string prefix = get_string(block + 345, 155);
    m.name = get_string(block, 100);
    if (!prefix.empty()) m.name = prefix + "/" + m.name;
    m.mode = static_cast<std::uint32_t>(get_number(block + 100, 8, "mode"));
    m.size = get_number(block + 124, 12, "size");
    m.mtime = static_cast<std::int64_t>(get_number(block + 136, 12, "mtime"));
    m.typeflag = block[156] == '\0' ? '0' : block[156];
    if (m.typeflag == '5') m.size = 0;
    return m;
}

tar_reader::tar_reader(callbacks cb) : cb_(std::move(cb)) {}

void tar_reader::on_header_block_() {
    if (all_zero(block_.data(), block_.size())) {
        state_ = state::second_zero;
        return;
    }
    const tar_member m = decode_ustar_header(block_.data());
    member_size_ = m.size;
    remaining_ = m.size;
    if (cb_.on_member) cb_.on_member(m);
    if (remaining_ == 0) {
        if (cb_.on_member_end) cb_.on_member_end();
        state_ = state::header;
    } else {
        state_ = state::body;
    }
}

void tar_reader::feed(const char* data, std::size_t n) {
    while (n > 0) {
        switch (state_) {
        case state::header:
        case state::second_zero: {
            const std::size_t take = std::min(n, tar_block_size - filled_);
            std::memcpy(block_.data() + filled_, data, take);
            filled_ += take;
            data += take;
            n -= take;
            if (filled_ < tar_block_size) break;
            filled_ = 0;
            if (state_ == state::header) {
                on_header_block_();
            } else if (all_zero(block_.data(), block_.size())) {
                state_ = state::end;
            } else {
                throw tar_error("tar archive: a single zero block inside the archive");
            }
            break;
        }
        case state::body: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
            if (cb_.on_data) cb_.on_data(data, take);
            data += take;
            n -= take;
            remaining_ -= take;
            if (remaining_ == 0) {
                if (cb_.on_member_end) cb_.on_member_end();
                remaining_ = tar_padding(member_size_);
                state_ = remaining_ == 0 ? state::header : state::padding;
            }
            break;
        }
        case state::padding: {
            const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
            data += take;
            n -= take;
            remaining_ -= take;
            if (remaining_ == 0) state_ = state::header;
            break;
        }
        case state::end:
            // GNU tar pads archives to a 10 KiB record with zeros: accept them.
            if (!all_zero(data, n)) throw tar_error("tar archive: data after the end-of-archive marker");
            n = 0;
            break;
        }
    }
}

void tar_reader::finish() const {
    if (state_ != state::end) throw tar_error("tar archive is truncated (no end-of-archive marker)");
}

}  // namespace obs::backup
