// The S3 half of a backup's archive: the backup worker cuts the tarball
// into parts and sends them through a concurrent_channel of capacity 1 (so
// at most one part waits), and the io thread's uploader takes them and sends
// them to S3 (PutObject for a lone part, else a multipart upload, aborted
// on failure). Internal to backup/ (backup_steps.cpp).
#pragma once

#include "backup/archive_producer.hpp"
#include "backup/s3_client.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <optional>
#include <string>

namespace obs::backup {

// One message from the worker to the uploader.
struct part_message {
    std::string data;     // the part's bytes
    std::string sha256;   // of data (hex), computed on the worker
    bool last = false;    // the final part
    bool failed = false;  // the archive failed: no more parts will come
};
using part_channel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code, part_message)>;

struct produce_result {
    archive_summary summary;
    std::string error;  // the archive failed (a file could not be read ...)
};

struct upload_result {
    bool ok = false;
    std::optional<s3_error> s3;  // S3's refusal, when that is why it failed
};

// Makes the worker stop: at its next chunk, and at once if it is blocked
// sending a part.
void stop_producing(archive_producer& producer, part_channel& channel);

// The uploader, on the io thread: takes parts from the channel and sends
// them to S3 as `key`. On failure the worker is released and a multipart
// upload aborted.
boost::asio::awaitable<upload_result> upload_parts(s3_client& s3, std::string key, part_channel& channel,
                                                   archive_producer& producer);

// The worker's half: archives into parts and sends them through the
// channel, blocking while it is full. Blocking: on the backup worker.
produce_result produce_parts(archive_producer& producer, part_channel& channel);

}  // namespace obs::backup
