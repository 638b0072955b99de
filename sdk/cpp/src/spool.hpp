// The spool: a directory of append-only segment files holding every event a
// provider logged and the server has not yet acknowledged, one compact JSON
// event per line. log() appends with one write(2) (the page cache keeps it
// through a kill -9 of the agent; no fsync on that path), the background
// thread reads back what did not fit in memory, and a segment is removed once
// it is sealed and all its events are acknowledged. A new provider on the same
// directory finds the segments an earlier one left and resends them (the
// server answers a resent id as a duplicate). A lock file (flock) keeps two
// live providers off one directory.
//
// Not thread-safe: the provider serialises every call under its mutex, except
// read_records, which only reads bytes below an end the caller got under it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
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

class spool {
public:
    // Creates `dir` when missing, takes its lock (throws std::runtime_error
    // when another process holds it) and scans the segments left there.
    spool(std::filesystem::path dir, std::uint64_t max_bytes);
    ~spool();
    spool(const spool&) = delete;
    spool& operator=(const spool&) = delete;

    // Events found at start-up (complete lines of earlier segments).
    std::uint64_t leftover_records() const { return leftover_records_; }
    // Where the earliest unacknowledged record is at start-up.
    spool_position start() const;

    // Appends `line` (which must end with '\n') to the current segment,
    // starting a new segment past the segment size. Returns the segment, or 0
    // when the spool would pass max_bytes or the write failed (drop it).
    std::uint64_t append(std::string_view line);
    // The end of what has been written so far.
    spool_position end() const { return {current_, current_size_}; }

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
    void open_segment(std::uint64_t id);

    std::filesystem::path dir_;
    std::uint64_t max_bytes_;
    int lock_fd_ = -1;
    int write_fd_ = -1;
    std::uint64_t current_ = 0;       // the segment written now
    std::uint64_t current_size_ = 0;  // its size
    std::uint64_t total_bytes_ = 0;   // of every segment present
    std::uint64_t leftover_records_ = 0;
    std::map<std::uint64_t, segment_state> segments_;
    std::vector<std::uint64_t> removable_;
};

// Past this size a segment is sealed and the next one started.
inline constexpr std::uint64_t spool_segment_bytes = 16u << 20;

}  // namespace observability::detail
