// Support for the C++ SDK's tests: reading what the real server stored
// through its REST routes, and a small HTTP proxy that sits between the SDK
// and the real server to inject the answers a healthy loopback server never
// gives on cue (503 with Retry-After, 415 to gzip, a 422 for a chosen event).
// Every request the proxy does not answer itself goes on to the real server.
#pragma once

#include "tests/e2e/server_process.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace obs::sdk_test {

// Every stored event of `run_id` in seq order (GET .../steps, paged).
std::vector<boost::json::object> stored_steps(unsigned short port, const std::string& run_id);

// The base URL of a loopback port.
std::string url_of(unsigned short port);

// A loopback port nobody listens on (bound, then closed).
unsigned short closed_port();

// The segment files of a C++ spool directory, in name (so id) order.
std::vector<std::filesystem::path> segment_files(const std::filesystem::path& spool);

struct proxied_request {
    std::chrono::steady_clock::time_point at;
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;                            // as received (still gzip when sent so)
    std::string decoded_body;                    // gunzipped when Content-Encoding: gzip
    int answered = 0;                            // the status sent back
};

struct canned_answer {
    int status = 503;
    std::string body;
    std::map<std::string, std::string> headers;
};

class fault_proxy {
public:
    // What to do with a request: a canned answer, or nullopt to forward it.
    // `body_to_forward` may be rewritten before it goes on (plain text; a
    // gzip request is forwarded gunzipped when the policy rewrote it).
    using policy = std::function<std::optional<canned_answer>(const proxied_request&, std::string& body_to_forward)>;

    fault_proxy(unsigned short upstream_port, policy p);
    ~fault_proxy();
    fault_proxy(const fault_proxy&) = delete;
    fault_proxy& operator=(const fault_proxy&) = delete;

    unsigned short port() const { return port_; }
    std::vector<proxied_request> requests() const;

private:
    void accept_loop();
    void serve(int fd);

    unsigned short upstream_;
    policy policy_;
    int listen_fd_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mu_;
    std::vector<proxied_request> requests_;
    std::vector<std::thread> threads_;
    std::vector<int> fds_;
    std::thread acceptor_;
};

// Gunzips one gzip member; throws on bad data.
std::string gunzip(const std::string& data);

}  // namespace obs::sdk_test
