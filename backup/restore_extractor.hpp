// The streaming half of a restore: gzip bytes in, files out. Members are
// written as they arrive (the database to one temporary file, artifacts
// under a temporary folder), each hashed on the way; finish() then checks
// the manifest (the last member) against what was written.
//
// Accepts only the members a backup writes: observability.db,
// artifacts/... (relative, no "..") and manifest.json; anything else is an
// error, so a hostile tarball cannot write outside the temporary places.
// Not thread-safe.
#pragma once

#include "backup/gzip_stream.hpp"
#include "backup/tar_reader.hpp"
#include "backup/file_io.hpp"
#include "domain/sha256.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace obs::backup {

struct restored_manifest {
    int format_version = 0;
    std::string server_version;
    int schema_version = 0;
    std::int64_t last_offset = 0;
    std::int64_t event_count = 0;
};

class restore_extractor {
public:
    // `db_tmp`: the file the database member goes to; `artifacts_root`: the
    // folder "artifacts/..." members go under (created on demand).
    restore_extractor(std::string db_tmp, std::string artifacts_root);
    ~restore_extractor();
    restore_extractor(const restore_extractor&) = delete;
    restore_extractor& operator=(const restore_extractor&) = delete;

    // Consumes `n` more bytes of the gzip stream. Throws gzip_error,
    // tar_error, std::system_error or std::runtime_error (a bad member).
    void feed(const char* data, std::size_t n);

    // Ends the stream: the gzip trailer and the tar end must have been read,
    // the database fsynced, and the manifest must list exactly the members
    // written with their sizes and sha256s. Throws std::runtime_error.
    restored_manifest finish();

    // The artifact files written, relative to artifacts_root's parent
    // ("artifacts/sha256/ab/..."), in archive order.
    const std::vector<std::string>& artifact_files() const noexcept { return artifacts_; }

private:
    void on_member_(const tar_member& m);
    void on_data_(const char* data, std::size_t n);
    void on_member_end_();

    std::string db_tmp_;
    std::string artifacts_root_;
    tar_reader tar_;
    gunzip_decompressor gunzip_;

    // The member being read.
    std::string current_;           // its name
    unique_fd out_;                 // its file (none for the manifest)
    std::string out_path_;
    std::unique_ptr<domain::sha256> hash_;
    std::uint64_t size_ = 0;

    std::string manifest_;                                        // manifest.json's text
    std::map<std::string, std::pair<std::uint64_t, std::string>> written_;  // name -> (size, sha256)
    std::vector<std::string> artifacts_;
    bool database_seen_ = false;
};

}  // namespace obs::backup
