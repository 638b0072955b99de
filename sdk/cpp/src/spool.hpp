// The spool: a directory of segment files holding every event a provider
// logged and the server has not yet acknowledged, one compact JSON event per
// line. The background thread reads back what did not fit in memory, and a
// segment is removed once it is sealed and all its events are acknowledged. A
// new provider on the same directory finds the segments an earlier one left
// and resends them (the server answers a resent id as a duplicate). A lock
// file (flock) keeps two live providers off one directory.
//
// log() copies its line into the current segment, which is mapped shared
// into memory: the bytes are in the page cache once the copy ends, so they
// survive a kill -9 of the agent, with no system call and no fsync on that
// path. Why not write(2), as before: appending 150-byte lines cost about
// 1 µs at p50 and 6-7 µs at p99 on ext4 (the inode lock, the mtime update
// going to the journal), most of log()'s p99 with a spool (scripts/bench-sdk),
// where a copy into pages already mapped writable costs 0.03 / 0.1 µs. So the
// background thread, in upkeep() and without the provider's lock, keeps the
// pages ahead of the write position faulted in, makes the next segment before
// it is needed and lets go of finished ones. A segment's blocks are reserved
// (fallocate) before it is mapped, because a store to a mapped page the file
// system cannot back kills the process (SIGBUS); where that is refused (a file
// system without fallocate, a full disk) the segment is written with pwrite(2).
//
// A segment file holds zeros past its last record (the reserved, unwritten
// part). Readers stop at the first zero byte: a line holds none (JSON escapes
// control characters), and a copy cut short by a kill leaves either a line
// without its '\n' or a zero byte before it, so it is ignored either way.
//
// Not thread-safe: the provider serialises every call under its mutex, except
// read_records, which only reads bytes below an end the caller got under it,
// and upkeep, which lets go of that mutex for its slow part.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace observability::detail {

// A place in the spool: a segment and a byte offset into it.
struct spool_position {
    std::uint64_t segment = 0;
    std::uint64_t offset = 0;
    bool operator==(const spool_position&) const = default;
};

// A record read back: its line (without '\n') and its segment.
struct spool_record {
    std::string line;
    std::uint64_t segment = 0;
};

// Past this size a segment is sealed and the next one started.
inline constexpr std::uint64_t spool_segment_bytes = 16u << 20;

struct spool_options {
    std::uint64_t max_bytes = std::uint64_t{1} << 30;  // of records; past it append() drops
    std::uint64_t segment_bytes = spool_segment_bytes;     // a multiple of the page size
    bool map_segments = true;                          // false: every segment written with pwrite(2)
};

class spool {
public:
    // Creates `dir` when missing, takes its lock (throws std::runtime_error
    // when another process holds it), scans the segments left there and
    // starts a new one.
    spool(std::filesystem::path dir, spool_options options);
    ~spool();
    spool(const spool&) = delete;
    spool& operator=(const spool&) = delete;

    // Events found at start-up (complete lines of earlier segments).
    std::uint64_t leftover_records() const { return leftover_records_; }
    // Where the earliest unacknowledged record is at start-up.
    spool_position start() const;

    // Appends `line` (which must end with '\n') to the current segment,
    // starting the next segment when it does not fit. Returns the segment, or
    // 0 when the spool would pass max_bytes or the write failed (drop it).
    // `call_upkeep` is set once when upkeep() has work, until it runs.
    std::uint64_t append(std::string_view line, bool& call_upkeep);
    // The end of what has been written so far.
    spool_position end() const { return {file_.id, current_size_}; }

    // True when upkeep() has work and no one is doing it.
    bool wants_upkeep() const;
    // REQUIRES: `lock` holds the mutex that guards this spool. Lets go of
    // finished segments, makes the next one and faults in the current one's
    // pages ahead of the write position, unlocking for that work.
    void upkeep(std::unique_lock<std::mutex>& lock);

    // Reads up to `max_records` complete lines from `from` towards `until`
    // into `out`, and returns where the next read starts. Crosses into later
    // segments; lines that are not complete at a sealed segment's end (a
    // torn write) are skipped. Safe without the provider's lock as long as
    // `until` was taken under it.
    spool_position read_records(spool_position from, spool_position until, std::size_t max_records,
                                std::vector<spool_record>& out) const;

    // One record of `segment` is acknowledged (delivered or rejected).
    void acknowledge(std::uint64_t segment);
    // The files of the segments that are sealed and wholly acknowledged,
    // forgotten here: the caller removes them, outside its lock.
    std::vector<std::filesystem::path> take_removable();
    std::filesystem::path segment_path(std::uint64_t segment) const;
    std::uint64_t bytes() const { return total_bytes_; }

private:
    struct segment_state {
        std::uint64_t size = 0;     // bytes written
        std::uint64_t records = 0;  // complete lines written
        std::uint64_t acked = 0;
        bool sealed = false;        // no more writes
    };
    // A segment file open for writing: mapped (segment_bytes of it), or written
    // with pwrite(2) when map is null.
    struct segment_file {
        std::uint64_t id = 0;
        int fd = -1;
        char* map = nullptr;
        std::uint64_t populated = 0;  // bytes from the start faulted in writable
    };

    segment_file make_file(std::uint64_t id, std::uint64_t populate) const;
    void release(segment_file& file, std::uint64_t keep_bytes) const;
    void discard(segment_file& file) const;
    bool start_next_segment();
    bool write_at_end(std::string_view line);

    std::filesystem::path dir_;
    spool_options options_;
    int lock_fd_ = -1;
    segment_file file_;                        // the segment written now
    std::optional<segment_file> next_;         // made ahead by upkeep()
    std::vector<std::pair<segment_file, std::uint64_t>> retired_;  // sealed: cut to size, unmapped by upkeep()
    std::uint64_t next_id_ = 1;                // ids only grow, in the order segments are written
    bool make_next_ = false;                   // upkeep() should make next_ (tried once per segment)
    bool seal_now_ = false;                    // a torn line ends the current segment
    bool upkeep_running_ = false;
    bool upkeep_called_ = false;               // append() asked for upkeep() since it last ran
    std::uint64_t current_size_ = 0;           // file_'s size
    std::uint64_t total_bytes_ = 0;            // of every segment present
    std::uint64_t leftover_records_ = 0;
    std::map<std::uint64_t, segment_state> segments_;
    std::vector<std::uint64_t> removable_;
};

}  // namespace observability::detail
