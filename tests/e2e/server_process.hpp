// End-to-end test support: starts the real observability-server binary on a
// free loopback port with a temporary database, and talks to it over real
// sockets. The port is read from the server's JSON startup line on stderr.
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace obs::e2e {

// A fresh directory under the system temp dir, removed with its contents.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct server_options {
    std::string db_path;                       // required
    std::vector<std::string> args;             // extra flags
    std::map<std::string, std::string> env;    // extra environment
    bool expect_ready = true;                  // wait for the startup line
};

class server_process {
public:
    // Starts the binary with --listen 127.0.0.1:0 --db ... and waits (20 s at
    // most) for its startup line. Throws when it exits or never gets ready
    // (unless expect_ready is false).
    explicit server_process(server_options options);
    ~server_process();  // SIGTERM, then SIGKILL after 5 s
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    // Everything the server wrote to stderr so far.
    std::string log() const;
    // Sends SIGKILL and reaps the process.
    void kill_hard();
    // Sends SIGTERM, waits up to `limit`; returns what wait_exit does, or -1
    // when it did not exit in time and had to be killed.
    int stop(std::chrono::milliseconds limit = std::chrono::milliseconds(10000));
    // Waits for the process to exit by itself (e.g. refused to start); returns
    // its exit code, 128 + the signal's number when a signal ended it (143 for
    // SIGTERM's default action, 134 for an abort), or -2 when it is still
    // running after `limit`.
    int wait_exit(std::chrono::milliseconds limit);
    // Peak resident memory in KiB (VmHWM) while running; 0 if unknown.
    long peak_rss_kib() const;
    long rss_kib() const;

    static std::string binary();

private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    std::filesystem::path log_path_;
    bool reaped_ = false;
};

struct http_response {
    int status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    boost::json::value json() const;  // throws when the body is not JSON
    std::string header(const std::string& name) const;
};

// One request on a new connection (Connection: close). `headers` are sent as
// given; a Content-Type of application/json is added for a non-empty body
// unless one is given. Times out after 30 s.
http_response http_request(unsigned short port, const std::string& method, const std::string& target,
                           const std::string& body = "", std::map<std::string, std::string> headers = {});

// Sends `raw` bytes as they are and reads one response (for malformed HTTP).
http_response raw_request(unsigned short port, const std::string& raw);

// A keep-alive connection that sends requests one after another.
class http_connection {
public:
    explicit http_connection(unsigned short port);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;
    http_response request(const std::string& method, const std::string& target, const std::string& body = "",
                          std::map<std::string, std::string> headers = {});
    bool is_open() const;

private:
    struct impl;
    impl* impl_;
};

// Counts rows with the sqlite3 C API on a read-only connection.
long long sqlite_count(const std::string& db_path, const std::string& sql);

}  // namespace obs::e2e
