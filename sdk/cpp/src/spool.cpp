// The spool's segment files; see spool.hpp.
#include "spool.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/file.h>
#include <sys/mman.h>
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

// Pages faulted in ahead of the write position: about 14,000 lines of 150
// bytes, so the thread has milliseconds to come back even at log()'s fastest;
// upkeep() is asked for once less than half of it is left.
constexpr std::uint64_t populate_ahead = 2u << 20;

// Complete lines of a segment file and its size: the bytes up to the first
// zero byte (the reserved, unwritten part of a mapped segment), or all.
std::pair<std::uint64_t, std::uint64_t> count_lines(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {0, 0};
    std::uint64_t lines = 0;
    std::uint64_t size = 0;
    char buffer[1 << 16];
    char previous = '\n';
    for (bool more = true; more;) {
        const auto n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        const auto zero = static_cast<const char*>(std::memchr(buffer, 0, static_cast<std::size_t>(n)));
        const auto used = zero ? zero - buffer : n;
        more = zero == nullptr;
        size += static_cast<std::uint64_t>(used);
        // Non-empty lines only, as read_records yields them.
        for (ssize_t i = 0; i < used; ++i) {
            lines += buffer[i] == '\n' && previous != '\n' ? 1 : 0;
            previous = buffer[i];
        }
    }
    ::close(fd);
    return {lines, size};
}

// madvise works on whole pages: `populated` stays a page multiple.
std::uint64_t page_end(std::uint64_t bytes) {
    static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

void populate(char* from, std::uint64_t bytes) {
    // Fails on kernels before 5.14: log() then takes the page faults itself.
    if (bytes > 0) ::madvise(from, bytes, MADV_POPULATE_WRITE);
}

}  // namespace

spool::spool(std::filesystem::path dir, spool_options options) : dir_(std::move(dir)), options_(options) {
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
        std::error_code ignored;
        if (lines == 0) {  // made ahead, or killed before its first record
            std::filesystem::remove(entry.path(), ignored);
            continue;
        }
        // Gives back the reserved blocks (and drops a torn line's tail after
        // a zero byte).
        std::filesystem::resize_file(entry.path(), size, ignored);
        segments_[id] = {size, lines, 0, true};
        total_bytes_ += size;
        leftover_records_ += lines;
    }
    next_id_ = last + 1;
    next_ = make_file(next_id_++, populate_ahead);
    if (next_->fd < 0) {
        ::close(lock_fd_);
        throw std::runtime_error("cannot create a spool segment in " + dir_.string());
    }
    start_next_segment();
}

spool::~spool() {
    for (auto& [file, size] : retired_) release(file, size);
    if (next_) discard(*next_);
    // A current segment with nothing left to send is of no use to the next
    // provider.
    const auto& current = segments_[file_.id];
    if (current.acked >= current.records) {
        discard(file_);
    } else {
        release(file_, current_size_);
    }
    ::close(lock_fd_);
}

std::filesystem::path spool::segment_path(std::uint64_t segment) const {
    char name[64];
    std::snprintf(name, sizeof name, "segment-%016llx.ndjson", static_cast<unsigned long long>(segment));
    return dir_ / name;
}

// Creates segment `id`, reserves its blocks and maps it, faulting in its first
// `populate` bytes; unmapped (pwrite) where the reservation or the mapping is
// refused; fd < 0 when it cannot be created at all.
spool::segment_file spool::make_file(std::uint64_t id, std::uint64_t populate_bytes) const {
    segment_file file{id};
    file.fd = ::open(segment_path(id).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (file.fd < 0 || !options_.map_segments) return file;
    const auto bytes = options_.segment_bytes;
    void* map = ::fallocate(file.fd, 0, 0, static_cast<off_t>(bytes)) == 0
                    ? ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0)
                    : MAP_FAILED;
    if (map == MAP_FAILED) {
        // Gives back what a failed reservation may have taken; zeros left
        // would only be skipped by the reader.
        if (::ftruncate(file.fd, 0) != 0) {}
        return file;
    }
    file.map = static_cast<char*>(map);
    file.populated = std::min(page_end(populate_bytes), bytes);
    populate(file.map, file.populated);
    return file;
}

// Cuts a mapped file to `keep_bytes` (its records), unmaps and closes it.
void spool::release(segment_file& file, std::uint64_t keep_bytes) const {
    if (file.map) {
        ::munmap(file.map, options_.segment_bytes);
        if (::ftruncate(file.fd, static_cast<off_t>(keep_bytes)) != 0) {}  // the reader stops at zeros anyway
    }
    if (file.fd >= 0) ::close(file.fd);
    file = {};
}

// Lets go of a segment that holds no record and removes its file.
void spool::discard(segment_file& file) const {
    const auto path = segment_path(file.id);
    release(file, 0);
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
}

spool_position spool::start() const {
    return segments_.empty() ? end() : spool_position{segments_.begin()->first, 0};
}

// Seals the current segment (upkeep() lets go of its file) and starts the
// next: the one upkeep() made ahead, or one made here. False, changing
// nothing, when no file can be created.
bool spool::start_next_segment() {
    segment_file next = next_ ? *next_ : make_file(next_id_++, 0);
    next_.reset();
    if (next.fd < 0) return false;
    if (file_.fd >= 0) {
        auto& sealed = segments_[file_.id];
        sealed.sealed = true;
        if (sealed.acked >= sealed.records) removable_.push_back(file_.id);
        retired_.emplace_back(file_, current_size_);
    }
    file_ = next;
    seal_now_ = false;
    current_size_ = 0;
    segments_[file_.id] = {};
    make_next_ = true;
    return true;
}

// Copies `line` at the end of the current segment; false, with the sizes
// telling what was written, when a pwrite(2) failed.
bool spool::write_at_end(std::string_view line) {
    if (file_.map) {
        std::memcpy(file_.map + current_size_, line.data(), line.size());
        current_size_ += line.size();
        return true;
    }
    std::size_t done = 0;
    while (done < line.size()) {
        const auto n = ::pwrite(file_.fd, line.data() + done, line.size() - done,
                                static_cast<off_t>(current_size_ + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // Nothing of a failed append stays: the part written is cut off
            // again (a full disk can still shrink a file). Should even that
            // fail, the torn line ends this segment, where readers skip it.
            if (done > 0 && ::ftruncate(file_.fd, static_cast<off_t>(current_size_)) != 0) {
                current_size_ += done;
                seal_now_ = true;
            }
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    current_size_ += line.size();
    return true;
}

std::uint64_t spool::append(std::string_view line, bool& call_upkeep) {
    // A line longer than a segment cannot be held (lines are at most 4 MiB,
    // segments 16 MiB but for tests).
    if (total_bytes_ + line.size() > options_.max_bytes || line.size() > options_.segment_bytes) return 0;
    if ((seal_now_ || current_size_ + line.size() > options_.segment_bytes) && !start_next_segment()) return 0;
    const auto before = current_size_;
    const bool written = write_at_end(line);
    total_bytes_ += current_size_ - before;
    auto& state = segments_[file_.id];
    state.size = current_size_;
    if (!upkeep_called_ && wants_upkeep()) upkeep_called_ = call_upkeep = true;
    if (!written) return 0;
    ++state.records;
    return file_.id;
}

bool spool::wants_upkeep() const {
    if (upkeep_running_) return false;
    return !retired_.empty() || make_next_ ||
           (file_.map && file_.populated < options_.segment_bytes &&
            file_.populated < current_size_ + populate_ahead / 2);
}

void spool::upkeep(std::unique_lock<std::mutex>& lock) {
    if (!wants_upkeep()) return;
    upkeep_running_ = true;
    upkeep_called_ = false;
    auto retired = std::move(retired_);
    retired_.clear();
    const std::uint64_t make_id = make_next_ ? next_id_++ : 0;
    make_next_ = false;
    // The file being populated stays mapped while the lock is let go: only
    // this function and the destructor (after the threads ended) unmap.
    segment_file populating = file_;
    const std::uint64_t populate_to = std::min(options_.segment_bytes, page_end(current_size_ + populate_ahead));
    lock.unlock();
    for (auto& [file, size] : retired) release(file, size);
    std::optional<segment_file> made;
    if (make_id != 0) made = make_file(make_id, populate_ahead);
    if (populating.map && populate_to > populating.populated)
        populate(populating.map + populating.populated, populate_to - populating.populated);
    lock.lock();
    upkeep_running_ = false;
    if (file_.id == populating.id) file_.populated = std::max(file_.populated, populate_to);
    if (made && made->fd >= 0) {
        // append() made a later segment itself while this one was made:
        // this one is not used.
        if (made->id > file_.id) {
            next_ = *made;
        } else {
            discard(*made);
        }
    }
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
