// The real-binary harness; see server_process.hpp.
#include "tests/e2e/server_process.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <sqlite3.h>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace obs::e2e {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

temp_dir::temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("obs-e2e-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(rd()));
    std::filesystem::create_directories(path_);
}

temp_dir::~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string server_process::binary() {
    if (const char* env = std::getenv("OBS_SERVER_BINARY")) return env;
    return OBS_SERVER_BINARY;
}

server_process::server_process(server_options options) {
    log_path_ = options.db_path + ".server-" + std::to_string(std::random_device{}()) + ".log";
    std::vector<std::string> args{binary(), "--listen", "127.0.0.1:0", "--db", options.db_path};
    args.insert(args.end(), options.args.begin(), options.args.end());
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, STDERR_FILENO);
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, STDIN_FILENO);
        ::dup2(null_fd, STDOUT_FILENO);
        for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    if (!options.expect_ready) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        auto text = log();
        auto pos = text.find("\"msg\":\"listening\"");
        if (pos != std::string::npos) {
            auto line_start = text.rfind('\n', pos);
            auto line_end = text.find('\n', pos);
            auto line = text.substr(line_start == std::string::npos ? 0 : line_start + 1,
                                    line_end == std::string::npos ? std::string::npos : line_end - line_start - 1);
            if (line_end != std::string::npos) {
                auto v = boost::json::parse(line);
                port_ = static_cast<unsigned short>(v.at("port").to_number<int>());
                return;
            }
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            throw std::runtime_error("server exited during startup: " + text);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_hard();
    throw std::runtime_error("server did not start in time: " + log());
}

server_process::~server_process() {
    if (!reaped_) stop(std::chrono::milliseconds(5000));
    std::error_code ignored;
    std::filesystem::remove(log_path_, ignored);
}

std::string server_process::log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void server_process::kill_hard() {
    if (reaped_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
}

int server_process::wait_exit(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            reaped_ = true;
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);  // as a shell reports it
            return WEXITSTATUS(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -2;
}

int server_process::stop(std::chrono::milliseconds limit) {
    if (reaped_) return -1;
    ::kill(pid_, SIGTERM);
    int code = wait_exit(limit);
    if (code == -2) {
        kill_hard();
        return -1;
    }
    return code;
}

static long read_status_kib(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return 0;
}

long server_process::peak_rss_kib() const { return read_status_kib(pid_, "VmHWM"); }
long server_process::rss_kib() const { return read_status_kib(pid_, "VmRSS"); }

boost::json::value http_response::json() const { return boost::json::parse(body); }

std::string http_response::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

namespace {

void set_timeouts(tcp::socket& socket, int seconds) {
    timeval tv{seconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

http_response read_response(tcp::socket& socket, boost::beast::flat_buffer& buffer) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    http::read(socket, buffer, parser);
    auto res = parser.release();
    http_response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
    }
    out.body = std::move(res.body());
    return out;
}

http::request<http::string_body> make_request(unsigned short port, const std::string& method, const std::string& target,
                                              const std::string& body, std::map<std::string, std::string> headers,
                                              bool keep_alive) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    if (!body.empty() && headers.find("Content-Type") == headers.end()) headers["Content-Type"] = "application/json";
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.keep_alive(keep_alive);
    req.prepare_payload();
    return req;
}

}  // namespace

http_response http_request(unsigned short port, const std::string& method, const std::string& target,
                           const std::string& body, std::map<std::string, std::string> headers) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    set_timeouts(socket, 30);
    auto req = make_request(port, method, target, body, std::move(headers), false);
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    return read_response(socket, buffer);
}

http_response raw_request(unsigned short port, const std::string& raw) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    set_timeouts(socket, 30);
    asio::write(socket, asio::buffer(raw));
    boost::beast::flat_buffer buffer;
    return read_response(socket, buffer);
}

struct http_connection::impl {
    asio::io_context io;
    tcp::socket socket{io};
    boost::beast::flat_buffer buffer;
    unsigned short port;
    bool open = true;
};

http_connection::http_connection(unsigned short port) : impl_(new impl) {
    impl_->port = port;
    impl_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    set_timeouts(impl_->socket, 30);
}

http_connection::~http_connection() { delete impl_; }

bool http_connection::is_open() const { return impl_->open; }

http_response http_connection::request(const std::string& method, const std::string& target, const std::string& body,
                                       std::map<std::string, std::string> headers) {
    auto req = make_request(impl_->port, method, target, body, std::move(headers), true);
    http::write(impl_->socket, req);
    auto res = read_response(impl_->socket, impl_->buffer);
    if (res.header("connection") == "close") impl_->open = false;
    return res;
}

long long sqlite_count(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        throw std::runtime_error("cannot open " + db_path);
    }
    sqlite3_stmt* stmt = nullptr;
    long long n = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (n < 0) throw std::runtime_error("query failed: " + sql);
    return n;
}

}  // namespace obs::e2e
