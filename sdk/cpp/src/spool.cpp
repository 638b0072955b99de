// The spool's segment files; see spool.hpp.
#include "spool.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <stdexcept>
#include <sys/file.h>
#include <unistd.h>

namespace observability::detail {
namespace {

constexpr std::string_view segment_prefix = "segment-";
constexpr std::string_view segment_suffix = ".ndjson";

// The id of a segment file name, or 0 for any other file.
std::uint64_t segment_id_of(const std::string& name) {
    if (!name.starts_with(segment_prefix) || !name.ends_with(segment_suffix)) return 0;
    const auto hex = name.substr(segment_prefix.size(), name.size() - segment_prefix.size() - segment_suffix.size());
    if (hex.size() != 16) return 0;
    std::uint64_t id = 0;
    for (char c : hex) {
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (digit < 0) return 0;
        id = id * 16 + static_cast<std::uint64_t>(digit);
    }
    return id;
}

// Complete lines of a file and its size.
std::pair<std::uint64_t, std::uint64_t> count_lines(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {0, 0};
    std::uint64_t lines = 0;
    std::uint64_t size = 0;
    char buffer[1 << 16];
    char previous = '\n';
    for (;;) {
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        size += static_cast<std::uint64_t>(n);
        // Non-empty lines only, as read_records yields them.
        for (ssize_t i = 0; i < n; ++i) {
            lines += buffer[i] == '\n' && previous != '\n' ? 1 : 0;
            previous = buffer[i];
        }
    }
    ::close(fd);
    return {lines, size};
}

}  // namespace

spool::spool(std::filesystem::path dir, std::uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
    std::filesystem::create_directories(dir_);
    lock_fd_ = ::open((dir_ / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) throw std::runtime_error("cannot open the spool lock in " + dir_.string());
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd_);
        throw std::runtime_error("the spool " + dir_.string() + " is used by another live provider");
    }
    std::uint64_t last = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
        const auto id = segment_id_of(entry.path().filename().string());
        if (id == 0) continue;
        const auto [lines, size] = count_lines(entry.path());
        last = std::max(last, id);
        if (lines == 0) {  // created, then killed before its first record
            std::error_code ignored;
            std::filesystem::remove(entry.path(), ignored);
            continue;
        }
        segments_[id] = {size, lines, 0, true};
        total_bytes_ += size;
        leftover_records_ += lines;
    }
    open_segment(last + 1);
}

spool::~spool() {
    if (write_fd_ >= 0) ::close(write_fd_);
    // A current segment with nothing left to send is of no use to the next
    // provider.
    const auto& current = segments_[current_];
    if (current.acked >= current.records) {
        std::error_code ignored;
        std::filesystem::remove(segment_path(current_), ignored);
    }
    ::close(lock_fd_);
}

std::filesystem::path spool::segment_path(std::uint64_t segment) const {
    char name[64];
    std::snprintf(name, sizeof name, "segment-%016llx.ndjson", static_cast<unsigned long long>(segment));
    return dir_ / name;
}

void spool::open_segment(std::uint64_t id) {
    const int fd = ::open(segment_path(id).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create a spool segment in " + dir_.string());
    if (write_fd_ >= 0) ::close(write_fd_);
    write_fd_ = fd;
    current_ = id;
    current_size_ = 0;
    segments_[id] = {};
}

spool_position spool::start() const {
    return segments_.empty() ? end() : spool_position{segments_.begin()->first, 0};
}

std::uint64_t spool::append(std::string_view line) {
    if (total_bytes_ + line.size() > max_bytes_) return 0;
    if (current_size_ + line.size() > spool_segment_bytes && current_size_ > 0) {
        auto& sealed = segments_[current_];
        sealed.sealed = true;
        if (sealed.acked >= sealed.records) removable_.push_back(current_);
        open_segment(current_ + 1);
    }
    std::size_t done = 0;
    while (done < line.size()) {
        const auto n = ::write(write_fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // A short write leaves a torn line, which the reader skips; the
            // next record must start on a line of its own.
            if (done > 0 && ::write(write_fd_, "\n", 1) == 1) ++current_size_;
            current_size_ += done;
            total_bytes_ += done;
            segments_[current_].size = current_size_;
            return 0;
        }
        done += static_cast<std::size_t>(n);
    }
    current_size_ += line.size();
    total_bytes_ += line.size();
    auto& state = segments_[current_];
    state.size = current_size_;
    ++state.records;
    return current_;
}

spool_position spool::read_records(spool_position from, spool_position until, std::size_t max_records,
                                   std::vector<spool_record>& out) const {
    std::string chunk;
    std::size_t taken = 0;
    while (taken < max_records && !(from == until)) {
        const auto it = segments_.lower_bound(from.segment);
        if (it == segments_.end()) return until;
        if (it->first != from.segment) from = {it->first, 0};
        const bool is_last = from.segment == until.segment;
        const std::uint64_t limit = is_last ? until.offset : it->second.size;
        if (from.offset >= limit) {
            if (is_last) return from;
            from = {from.segment + 1, 0};
            continue;
        }
        // 256 KiB holds many lines; a longer line (an event may be up to the
        // body limit, 4 MiB) is read again whole.
        const std::uint64_t remaining = limit - from.offset;
        std::uint64_t want = std::min<std::uint64_t>(remaining, 256 << 10);
        ssize_t n = 0;
        for (;;) {
            const int fd = ::open(segment_path(from.segment).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) return until;
            chunk.resize(want);
            n = ::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(from.offset));
            ::close(fd);
            if (n <= 0) return until;
            if (want == remaining || std::string_view(chunk.data(), static_cast<std::size_t>(n)).find('\n') !=
                                         std::string_view::npos)
                break;
            want = std::min<std::uint64_t>(remaining, 8 << 20);
        }
        std::string_view text(chunk.data(), static_cast<std::size_t>(n));
        std::size_t pos = 0;
        while (taken < max_records) {
            const auto nl = text.find('\n', pos);
            if (nl == std::string_view::npos) break;
            if (nl > pos) {
                out.push_back({std::string(text.substr(pos, nl - pos)), from.segment});
                ++taken;
            }
            pos = nl + 1;
        }
        if (pos == 0) {
            // No newline up to the segment's end: a torn last line.
            from = is_last ? until : spool_position{from.segment + 1, 0};
            continue;
        }
        from.offset += pos;
    }
    return from;
}

void spool::acknowledge(std::uint64_t segment) {
    const auto it = segments_.find(segment);
    if (it == segments_.end()) return;
    ++it->second.acked;
    if (it->second.sealed && it->second.acked == it->second.records) removable_.push_back(segment);
}

std::vector<std::filesystem::path> spool::take_removable() {
    std::vector<std::filesystem::path> paths;
    for (const auto id : removable_) {
        const auto it = segments_.find(id);
        if (it == segments_.end()) continue;
        total_bytes_ -= it->second.size;
        segments_.erase(it);
        paths.push_back(segment_path(id));
    }
    removable_.clear();
    return paths;
}

}  // namespace observability::detail
