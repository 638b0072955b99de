// The backup worker's pipeline: files (the snapshot, later the artifacts)
// -> ustar tar -> gzip -> parts of `part_size` bytes, handed one by one to a
// sink that may block (the back-pressure: the worker stops reading and
// compressing while the uploader is behind), so memory stays bounded by the
// parts in flight whatever the database size.
//
// The archive's members are the files in the order given, then
// `manifest.json` LAST: it holds the sha256 of every other member, computed
// while they stream, so no file is read twice. A restore checks members
// against it once the archive has been read.
//
// Thread: run() runs on the calling thread (the backup worker); cancel()
// and input_bytes() may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace obs::backup {

inline constexpr std::size_t s3_min_part_size = 5 * 1024 * 1024;  // S3's floor for all parts but the last
inline constexpr const char* manifest_member_name = "manifest.json";
inline constexpr const char* database_member_name = "observability.db";
inline constexpr int manifest_format_version = 1;

// Receives one finished part; `last` is true for the final one. Returns
// false to stop the producer (the consumer gave up). May block.
using part_sink = std::function<bool(std::string part, bool last)>;

// Cuts a byte stream into parts of exactly `part_size` bytes and a last one
// of 1..part_size bytes (an empty stream gives one empty last part). A part
// is emitted only once a byte beyond it exists, so `last` is always known.
class part_cutter {
public:
    part_cutter(std::size_t part_size, part_sink sink);  // REQUIRES: part_size > 0

    // Appends bytes; returns false once the sink said stop.
    bool write(const char* data, std::size_t n);
    // Emits the remainder as the last part; returns the sink's answer.
    bool finish();
    std::size_t parts_emitted() const noexcept { return parts_; }

private:
    std::size_t part_size_;
    part_sink sink_;
    std::string buffer_;  // bytes not yet emitted (at most part_size + one write)
    std::size_t parts_ = 0;
    bool stopped_ = false;
};

// A file to put into the archive.
struct archive_file {
    std::string name;  // path inside the tarball, e.g. "observability.db", "artifacts/ab/cd"
    std::string path;  // file on disk
};

// What the manifest says besides the member digests.
struct manifest_fields {
    std::string server_version;
    int schema_version = 0;
    std::int64_t last_offset = 0;
    std::int64_t event_count = 0;
    std::int64_t created_unix_ms = 0;
};

struct member_digest {
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;  // hex
};

// The manifest.json text: {"format_version", "server_version",
// "schema_version", "last_offset", "event_count", "created_at" (RFC 3339),
// "database": "observability.db", "members": [{"name","size","sha256"}]}.
std::string encode_manifest(const manifest_fields& fields, const std::vector<member_digest>& members);

struct archive_options {
    int gzip_level = 1;                      // 0..9
    std::size_t part_size = s3_min_part_size;  // bytes per part (the last may be smaller)
    std::size_t read_chunk = 256 * 1024;     // bytes read from a file at a time
};

struct archive_summary {
    bool cancelled = false;           // the sink said stop, or cancel() was called
    std::uint64_t bytes = 0;          // compressed bytes emitted
    std::string sha256;               // of the whole compressed stream (hex), when not cancelled
    std::size_t parts = 0;            // parts emitted
    std::vector<member_digest> members;  // every member but the manifest, in order
};

class archive_producer {
public:
    archive_producer(std::vector<archive_file> files, manifest_fields fields, archive_options options);

    // Builds the archive and hands its parts to `sink`. Returns when the last
    // part was accepted or when cancelled. Throws std::system_error when a
    // file cannot be read or changes size, gzip_error/tar_error on bugs.
    archive_summary run(const part_sink& sink);

    // Asks run() to stop at its next chunk. Any thread.
    void cancel() noexcept { cancelled_.store(true); }

    // Input bytes read from files so far. Any thread.
    std::uint64_t input_bytes() const noexcept { return input_bytes_.load(); }

private:
    std::vector<archive_file> files_;
    manifest_fields fields_;
    archive_options options_;
    std::atomic<bool> cancelled_{false};
    std::atomic<std::uint64_t> input_bytes_{0};
};

}  // namespace obs::backup
