// Helpers shared by the backup tests: temporary folders, shell commands
// (GNU tar, gzip, sqlite3, the aws CLI), test databases filled by SQL, a
// plain-asio HTTP listener that records requests and answers canned
// responses, a TCP relay that can break S3 part uploads on purpose, and the
// s3rver test server started through scripts/s3-test-server.
#pragma once

#include "persistence/sqlite_handle.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace obs::backup::test {

// A fresh folder under the temp directory, removed with its content.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct command_result {
    int status = -1;     // exit status (-1: did not exit normally)
    std::string output;  // stdout and stderr
};

// Runs `command` with /bin/sh and collects its output.
command_result run_command(const std::string& command);

// Quotes `s` for /bin/sh.
std::string shell_quote(const std::string& s);

// `n` pseudo-random bytes from `seed`.
std::string random_bytes(std::size_t n, std::uint32_t seed);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

// Names of the entries of `dir` (not recursive), sorted.
std::vector<std::string> list_dir(const std::string& dir);

// Creates a migrated database at `path` with `rows` events whose payloads
// hold `payload_bytes` random bytes as hex (so they barely compress).
void make_event_db(const std::string& path, std::int64_t rows, int payload_bytes);

// Appends `rows` more events after the current last offset, on `db`.
void add_events(sqlite3* db, std::int64_t rows, int payload_bytes);

// One integer from `sql` on `db`.
std::int64_t query_int(sqlite3* db, const std::string& sql);

// A free loopback TCP port (bound, then released).
unsigned short free_port();

// A captured HTTP request.
struct http_request {
    std::string method;
    std::string target;                         // path and query as sent
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;
};

struct http_response {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool hang = false;  // never answer (a timeout test)
};

// An HTTP/1.1 listener on 127.0.0.1 with plain asio, on the test's
// io_context: each request is recorded and answered by `handler`.
class local_http_server {
public:
    using handler = std::function<http_response(const http_request&)>;
    local_http_server(boost::asio::io_context& io, handler h);
    ~local_http_server();
    unsigned short port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    const std::vector<http_request>& requests() const { return state_->requests; }

    struct state {
        handler h;
        std::vector<http_request> requests;
    };

private:
    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<state> state_;
    unsigned short port_ = 0;
};

// A TCP relay 127.0.0.1:port() -> 127.0.0.1:target_port on the test's
// io_context. A connection whose client bytes contain `break_on` (e.g.
// "partNumber=3&") is cut at once, as if S3 had died under that request.
// It also notes the request lines ("DELETE /bkt/k?uploadId=x") it relays.
class breaking_relay {
public:
    struct state {
        std::string break_on;
        int broken = 0;                          // connections cut so far
        std::vector<std::string> request_lines;  // method and target of each relayed request
    };
    breaking_relay(boost::asio::io_context& io, unsigned short target_port, std::string break_on);
    ~breaking_relay();
    unsigned short port() const { return port_; }
    int broken() const { return state_->broken; }
    const std::vector<std::string>& request_lines() const { return state_->request_lines; }

private:
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::shared_ptr<state> state_;
};

// s3rver on a free port with one bucket, through scripts/s3-test-server.
class s3rver_process {
public:
    explicit s3rver_process(const std::string& bucket);
    ~s3rver_process();  // stop()
    void stop();        // SIGKILL, idempotent
    // After stop(): starts it again on the same port and data folder, so the
    // objects stored before are there again (an S3 outage that ends).
    void start_again();
    unsigned short port() const { return port_; }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    const std::string& bucket() const { return bucket_; }
    // The aws CLI with S3RVER keys against this server: `aws --endpoint-url ... ARGS`.
    command_result aws(const std::string& args) const;

private:
    void launch();

    temp_dir dir_;
    std::string bucket_;
    unsigned short port_ = 0;
    int pid_ = -1;
};

}  // namespace obs::backup::test

#include <boost/asio/co_spawn.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

namespace obs::backup::test {

// Runs `task` on `io` until it finishes (then stops the loop, whatever else
// is pending) or `timeout` passes (then throws). Returns its value.
template <class T>
T run_until_done(boost::asio::io_context& io, boost::asio::awaitable<T> task,
                 std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    std::optional<T> value;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
        failure = e;
        if (!e) value.emplace(std::move(v));
        done = true;
        io.stop();
    });
    io.restart();
    io.run_for(timeout);
    if (!done) throw std::runtime_error("the task did not finish in time");
    if (failure) std::rethrow_exception(failure);
    return std::move(*value);
}

}  // namespace obs::backup::test
