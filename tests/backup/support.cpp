// Helpers of the backup tests (see support.hpp).
#include "support.hpp"

#include "persistence/migrations.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace obs::backup::test {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;

temp_dir::temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "obs-backup-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

command_result run_command(const std::string& command) {
    command_result r;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    const int status = ::pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(rng() & 0xff);
    return out;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

void add_events(sqlite3* db, std::int64_t rows, int payload_bytes) {
    // Offsets continue after the last one; each event is its own run's seq 1
    // so the unique indexes hold.
    static constexpr const char* insert_sql = R"(
        WITH RECURSIVE n(i) AS (
            SELECT (SELECT coalesce(max("offset"), 0) FROM events) + 1
            UNION ALL SELECT i + 1 FROM n
            WHERE i < (SELECT coalesce(max("offset"), 0) FROM events) + ?1)
        INSERT INTO events("offset", id, run_id, seq, type, ts_ms, received_ms, payload, fingerprint)
        SELECT i, 'e-' || i, 'r-' || i, 1, 'log', 1795817045123 + i, 1795817045123 + i,
               '{"message":"' || hex(randomblob(?2)) || '"}', hex(randomblob(32))
        FROM n)";
    persistence::stmt_ptr s = persistence::prepare(db, insert_sql);
    sqlite3_bind_int64(s.get(), 1, rows);
    sqlite3_bind_int(s.get(), 2, payload_bytes);
    persistence::check(db, sqlite3_step(s.get()), "add_events");
}

void make_event_db(const std::string& path, std::int64_t rows, int payload_bytes) {
    persistence::db_ptr db = persistence::open_database(path, false);
    persistence::apply_migrations(db.get(), persistence::embedded_migrations());
    if (rows > 0) add_events(db.get(), rows, payload_bytes);
}

std::int64_t query_int(sqlite3* db, const std::string& sql) {
    persistence::stmt_ptr s = persistence::prepare(db, sql);
    persistence::check(db, sqlite3_step(s.get()), sql);
    return sqlite3_column_int64(s.get(), 0);
}

unsigned short free_port() {
    asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// ---- local_http_server -------------------------------------------------

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<local_http_server::state> st) {
    std::string buf;
    std::array<char, 16384> chunk{};
    boost::system::error_code ec;
    auto read_more = [&]() -> asio::awaitable<bool> {
        const std::size_t n = co_await socket.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return false;
        buf.append(chunk.data(), n);
        co_return true;
    };
    for (;;) {
        std::size_t head_end = 0;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
            if (!co_await read_more()) co_return;
        }
        http_request req;
        std::istringstream head(buf.substr(0, head_end));
        std::string line;
        std::getline(head, line);
        std::istringstream request_line(line);
        request_line >> req.method >> req.target;
        while (std::getline(head, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            req.headers[lower(line.substr(0, colon))] = value;
        }
        const std::size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
        const std::size_t body_at = head_end + 4;
        if (req.headers.count("expect") && buf.size() - body_at < length) {
            co_await asio::async_write(socket, asio::buffer(std::string("HTTP/1.1 100 Continue\r\n\r\n")),
                                       asio::redirect_error(asio::use_awaitable, ec));
        }
        while (buf.size() - body_at < length) {
            if (!co_await read_more()) co_return;
        }
        req.body = buf.substr(body_at, length);
        buf.erase(0, body_at + length);
        st->requests.push_back(req);
        const http_response resp = st->h(req);
        if (resp.hang) {
            while (co_await read_more()) {
            }
            co_return;
        }
        std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + reason(resp.status) + "\r\n";
        out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\n";
        for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
        out += "\r\n" + resp.body;
        co_await asio::async_write(socket, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
    }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<local_http_server::state> st) {
    for (;;) {
        boost::system::error_code ec;
        tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(s), st), asio::detached);
    }
}

}  // namespace

local_http_server::local_http_server(asio::io_context& io, handler h)
    : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), state_(std::make_shared<state>()) {
    state_->h = std::move(h);
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io, accept_loop(acceptor_, state_), asio::detached);
}

local_http_server::~local_http_server() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

// ---- breaking_relay ----------------------------------------------------

namespace {

// Notes "METHOD /target" for each request line ending in `text`.
void note_request_lines(const std::string& text, std::vector<std::string>& lines) {
    static constexpr std::string_view tail = " HTTP/1.1\r\n";
    for (auto at = text.find(tail); at != std::string::npos; at = text.find(tail, at + 1)) {
        const auto start = text.rfind('\n', at);
        const std::string line = text.substr(start == std::string::npos ? 0 : start + 1,
                                             at - (start == std::string::npos ? 0 : start + 1));
        for (const char* method : {"GET /", "PUT /", "POST /", "DELETE /", "HEAD /"}) {
            if (line.rfind(method, 0) == 0) lines.push_back(line);
        }
    }
}

asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to, bool client_side,
                           std::shared_ptr<breaking_relay::state> st) {
    std::array<char, 65536> chunk{};
    boost::system::error_code ec;
    for (;;) {
        const std::size_t n = co_await from->async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        if (client_side) {
            const std::string text(chunk.data(), n);
            note_request_lines(text, st->request_lines);
            if (text.find(st->break_on) != std::string::npos) {
                ++st->broken;
                break;
            }
        }
        co_await asio::async_write(*to, asio::buffer(chunk.data(), n), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
    }
    from->close(ec);
    to->close(ec);
}

asio::awaitable<void> relay_loop(tcp::acceptor& acceptor, unsigned short target, std::shared_ptr<breaking_relay::state> st) {
    for (;;) {
        boost::system::error_code ec;
        auto client = std::make_shared<tcp::socket>(co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec)));
        if (ec) co_return;
        auto server = std::make_shared<tcp::socket>(acceptor.get_executor());
        co_await server->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), target),
                                       asio::redirect_error(asio::use_awaitable, ec));
        if (ec) continue;
        asio::co_spawn(acceptor.get_executor(), pump(client, server, true, st), asio::detached);
        asio::co_spawn(acceptor.get_executor(), pump(server, client, false, st), asio::detached);
    }
}

}  // namespace

breaking_relay::breaking_relay(asio::io_context& io, unsigned short target_port, std::string break_on)
    : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), state_(std::make_shared<state>()) {
    state_->break_on = std::move(break_on);
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io, relay_loop(acceptor_, target_port, state_), asio::detached);
}

breaking_relay::~breaking_relay() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

// ---- s3rver_process ----------------------------------------------------

s3rver_process::s3rver_process(const std::string& bucket) : bucket_(bucket) { launch(); }

void s3rver_process::start_again() {
    if (pid_ > 0) return;
    launch();
}

void s3rver_process::launch() {
    const std::string script = std::string(OBS_SOURCE_DIR) + "/scripts/s3-test-server";
    // Port 0 the first time: the kernel picks a free one and the script
    // reports it. Started again, it takes the same port (its clients know it).
    const command_result r =
        run_command(shell_quote(script) + " " + std::to_string(port_) + " " + shell_quote(dir_ / "data") + " " + bucket_ +
                    " " + std::to_string(::getpid()));
    if (r.status != 0) throw std::runtime_error("s3-test-server failed: " + r.output);
    std::istringstream words(r.output);
    unsigned port = 0;
    if (!(words >> pid_ >> port) || port == 0 || port > 65535)
        throw std::runtime_error("s3-test-server said: " + r.output);
    port_ = static_cast<unsigned short>(port);
}

s3rver_process::~s3rver_process() { stop(); }

void s3rver_process::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    // Not our child: wait until it is gone or a zombie (its sockets closed).
    const std::string stat = "/proc/" + std::to_string(pid_) + "/stat";
    for (int i = 0; i < 500; ++i) {
        const std::string s = read_file(stat);
        const auto paren = s.rfind(')');
        if (s.empty() || (paren != std::string::npos && paren + 2 < s.size() && s[paren + 2] == 'Z')) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
}

command_result s3rver_process::aws(const std::string& args) const {
    return run_command(
        "AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 "
        "AWS_EC2_METADATA_DISABLED=true aws --endpoint-url " + endpoint() + " " + args);
}

}  // namespace obs::backup::test

// ---- backup_fixture ----------------------------------------------------

#include "backup_fixture.hpp"

namespace obs::backup::test {

shared_fixture& shared() {
    static std::unique_ptr<shared_fixture> f = [] {
        auto p = std::make_unique<shared_fixture>();
        p->big_db = p->dir / "big.db";
        make_event_db(p->big_db, p->big_rows, 48);
        return p;
    }();
    return *f;
}

s3_config s3_at(unsigned short port, const std::string& bucket) {
    s3_config c;
    c.access_key_id = "S3RVER";
    c.secret_access_key = "S3RVER";
    c.endpoint = "http://127.0.0.1:" + std::to_string(port);
    c.path_style = true;
    c.bucket = bucket;
    return c;
}

backup_request request_for(const std::string& db, const std::string& data_dir, std::optional<s3_config> s3,
                           std::vector<std::string>* log) {
    backup_request r;
    r.db_path = db;
    r.data_dir = data_dir;
    r.upload = s3.has_value();
    r.s3 = std::move(s3);
    r.server_version = "0.1.0-test";
    r.s3_options.backoff = std::chrono::milliseconds(10);
    r.s3_options.connect_timeout = std::chrono::milliseconds(2000);
    if (log) r.log = [log](const std::string& line) { log->push_back(line); };
    return r;
}

}  // namespace obs::backup::test
