// The ustar header encoding and the streaming writer (see tar_writer.hpp).
#include "backup/tar_writer.hpp"

#include <algorithm>
#include <cstring>

namespace obs::backup {

namespace {

constexpr std::size_t name_len = 100;
constexpr std::size_t prefix_len = 155;
constexpr std::uint64_t max_octal_11 = 077777777777ULL;  // largest value of 11 octal digits

// Writes `value` as `width - 1` zero-padded octal digits and a NUL.
void put_octal(char* field, std::size_t width, std::uint64_t value) {
    field[width - 1] = '\0';
    for (std::size_t i = width - 1; i-- > 0;) {
        field[i] = static_cast<char>('0' + (value & 7));
        value >>= 3;
    }
}

// The size field: octal when it fits, else GNU base-256 (high bit set,
// big-endian binary in the remaining 11 bytes).
void put_size(char* field, std::uint64_t size) {
    if (size <= max_octal_11) {
        put_octal(field, 12, size);
        return;
    }
    std::memset(field, 0, 12);
    field[0] = static_cast<char>(0x80);
    for (int i = 11; i >= 4; --i) {
        field[i] = static_cast<char>(size & 0xff);
        size >>= 8;
    }
}

// Splits `name` into (prefix, name) fields; throws when it cannot.
std::pair<std::string, std::string> split_name(const std::string& name) {
    if (name.empty() || name.front() == '/') throw tar_error("tar member name must be relative: '" + name + "'");
    if (name.size() <= name_len) return {"", name};
    for (std::size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
        const std::size_t rest = name.size() - slash - 1;
        if (slash <= prefix_len && rest > 0 && rest <= name_len) return {name.substr(0, slash), name.substr(slash + 1)};
    }
    throw tar_error("tar member name too long for ustar: '" + name + "'");
}

}  // namespace

std::array<char, tar_block_size> encode_ustar_header(const tar_entry& entry) {
    std::array<char, tar_block_size> h{};
    const auto [prefix, name] = split_name(entry.name);
    std::memcpy(h.data(), name.data(), name.size());
    put_octal(h.data() + 100, 8, entry.mode & 07777);
    put_octal(h.data() + 108, 8, 0);  // uid
    put_octal(h.data() + 116, 8, 0);  // gid
    put_size(h.data() + 124, entry.size);
    put_octal(h.data() + 136, 12, static_cast<std::uint64_t>(std::max<std::int64_t>(entry.mtime, 0)) & max_octal_11);
    h[156] = '0';  // regular file
    std::memcpy(h.data() + 257, "ustar", 6);  // magic with its NUL
    std::memcpy(h.data() + 263, "00", 2);
    put_octal(h.data() + 329, 8, 0);  // devmajor
    put_octal(h.data() + 337, 8, 0);  // devminor
    std::memcpy(h.data() + 345, prefix.data(), prefix.size());

    // The checksum is the sum of the header's bytes with its own field read
    // as eight spaces; written as six octal digits, NUL, space.
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    put_octal(h.data() + 148, 7, sum);
    h[155] = ' ';
    return h;
}

std::size_t tar_padding(std::uint64_t size) {
    return static_cast<std::size_t>((tar_block_size - size % tar_block_size) % tar_block_size);
}

tar_writer::tar_writer(sink out) : out_(std::move(out)) {}

void tar_writer::emit_(const char* data, std::size_t n) {
    out_(data, n);
    written_ += n;
}

void tar_writer::begin_member(const tar_entry& entry) {
    if (open_) throw tar_error("tar member begun before the previous one ended");
    const auto header = encode_ustar_header(entry);
    emit_(header.data(), header.size());
    open_ = true;
    remaining_ = entry.size;
    size_ = entry.size;
}

void tar_writer::write(const char* data, std::size_t n) {
    if (!open_ || n > remaining_) throw tar_error("tar member body longer than its declared size");
    emit_(data, n);
    remaining_ -= n;
}

void tar_writer::end_member() {
    if (!open_ || remaining_ != 0) throw tar_error("tar member body shorter than its declared size");
    static constexpr std::array<char, tar_block_size> zeros{};
    emit_(zeros.data(), tar_padding(size_));
    open_ = false;
}

void tar_writer::finish() {
    if (open_) throw tar_error("tar archive finished inside a member");
    static constexpr std::array<char, 2 * tar_block_size> zeros{};
    emit_(zeros.data(), zeros.size());
}

}  // namespace obs::backup
