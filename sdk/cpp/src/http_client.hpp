// The background thread's HTTP client: one libcurl easy handle, so the
// connection to the server is kept alive between requests, plus gzip for
// request bodies (zlib). Used by one thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace observability::detail {

struct http_result {
    int status = 0;                                  // 0: no answer (connection error, timeout, aborted)
    std::string body;
    std::optional<std::chrono::milliseconds> retry_after;
    std::string error;                               // curl's reason when status is 0
};

// Compresses `data` as one gzip member (level 1: the body is sent once and
// soon, so speed matters more than size).
std::string gzip_compress(std::string_view data);

class http_client {
public:
    // `base_url` without a trailing slash; `api_key` empty for none. A set
    // `abort` flag ends a request in progress (status 0).
    http_client(std::string base_url, std::string api_key, const std::atomic<bool>& abort);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    // POST /observability/events with a JSON batch body ({"events":[...]}),
    // gzip-compressed when `gzip` is set.
    http_result post_events(std::string_view batch, bool gzip, std::chrono::milliseconds timeout);
    // PUT /observability/runs/{run_id}/artifacts/{name}.
    http_result put_artifact(const std::string& run_id, const std::string& name, std::string_view bytes,
                             const std::string& content_type, const std::string& step_id,
                             std::chrono::milliseconds timeout);

    const std::string& base_url() const { return base_url_; }

private:
    struct handle;
    http_result perform(const std::string& method, const std::string& url, std::string_view body,
                        const std::vector<std::string>& headers, std::chrono::milliseconds timeout);

    std::string base_url_;
    std::string auth_header_;
    const std::atomic<bool>& abort_;
    std::unique_ptr<handle> handle_;
};

}  // namespace observability::detail
