// libcurl's multi interface driven by one asio io_context: no thread of its
// own and no blocking call. curl tells us which sockets to watch
// (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION);
// we watch them with posix::stream_descriptor::async_wait and a steady_timer
// and call curl_multi_socket_action when they fire. A finished transfer
// (curl_multi_info_read) completes the coroutine awaiting perform().
//
// Executor: everything runs on the executor given to the constructor, which
// must be a single-threaded io_context (the io thread). Not thread-safe.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <curl/curl.h>

#include <memory>
#include <string>

namespace obs::backup {

struct easy_deleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;          // owns an easy handle
using slist_ptr = std::unique_ptr<curl_slist, slist_deleter>;  // owns a header list

// A new easy handle (curl_global_init done once first). Throws
// std::runtime_error when curl cannot allocate one.
easy_ptr make_easy();

// Appends `line` to `list`. Throws std::bad_alloc when curl cannot.
void append_header(slist_ptr& list, const std::string& line);

struct transfer_result {
    CURLcode code = CURLE_OK;  // the transfer's outcome (CURLE_OK: a response was read)
    long http_status = 0;      // the response status, 0 when none
    std::string error;         // curl's error text when code != CURLE_OK
    bool ok() const noexcept { return code == CURLE_OK; }
};

class curl_multi {
public:
    // REQUIRES: `io` belongs to a single-threaded io_context.
    explicit curl_multi(boost::asio::any_io_executor io);
    // Removes unfinished transfers; their awaiting coroutines resume (when
    // the loop runs again) with CURLE_ABORTED_BY_CALLBACK.
    ~curl_multi();
    curl_multi(const curl_multi&) = delete;
    curl_multi& operator=(const curl_multi&) = delete;

    // Runs one transfer and resumes when it ends (success or failure).
    // REQUIRES: `easy` is fully configured, in no multi handle, and (with
    // its buffers and callbacks' data) outlives the co_await. The handle's
    // CURLOPT_ERRORBUFFER, PRIVATE and CLOSESOCKET options are set here.
    // If the awaiting coroutine is destroyed mid-transfer, the handle is
    // removed from the multi handle first.
    boost::asio::awaitable<transfer_result> perform(CURL* easy);

    // Transfers in progress.
    std::size_t active() const noexcept;

    boost::asio::any_io_executor get_executor() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;  // shared with pending socket and timer handlers
};

}  // namespace obs::backup
