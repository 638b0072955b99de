// The C++ SDK tests' helpers; see sdk_support.hpp.
#include "sdk_support.hpp"

#include <boost/json/parse.hpp>

#include <zlib.h>

#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace obs::sdk_test {

std::string url_of(unsigned short port) { return "http://127.0.0.1:" + std::to_string(port); }

std::vector<std::filesystem::path> segment_files(const std::filesystem::path& spool) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(spool))
        if (e.path().filename().string().starts_with("segment-")) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<boost::json::object> stored_steps(unsigned short port, const std::string& run_id) {
    std::vector<boost::json::object> out;
    std::int64_t after = 0;
    for (;;) {
        auto res = e2e::http_request(port, "GET",
                                     "/observability/runs/" + run_id + "/steps?limit=1000&after_seq=" +
                                         std::to_string(after));
        if (res.status == 404) return out;
        if (res.status != 200) throw std::runtime_error("steps: HTTP " + std::to_string(res.status) + " " + res.body);
        auto v = res.json();
        for (auto& s : v.at("steps").as_array()) out.push_back(s.as_object());
        const auto& next = v.at("next_after_seq");
        if (next.is_null()) return out;
        after = next.to_number<std::int64_t>();
    }
}

unsigned short closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

std::string gunzip(const std::string& data) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    char buffer[1 << 16];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            throw std::runtime_error("not gzip");
        }
        out.append(buffer, sizeof buffer - z.avail_out);
    }
    inflateEnd(&z);
    return out;
}

fault_proxy::fault_proxy(unsigned short upstream_port, policy p) : upstream_(upstream_port), policy_(std::move(p)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0)
        throw std::runtime_error("proxy: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
}

fault_proxy::~fault_proxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    {
        std::lock_guard lock(mu_);
        for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
}

std::vector<proxied_request> fault_proxy::requests() const {
    std::lock_guard lock(mu_);
    return requests_;
}

void fault_proxy::accept_loop() {
    while (!stopping_) {
        const int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        std::lock_guard lock(mu_);
        fds_.push_back(fd);
        threads_.emplace_back([this, fd] {
            serve(fd);
            ::close(fd);
        });
    }
}

namespace {

bool send_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::string reason_of(int status) {
    switch (status) {
        case 200: return "OK";
        case 201: return "Created";
        case 415: return "Unsupported Media Type";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 503: return "Service Unavailable";
        default: return "Status";
    }
}

}  // namespace

void fault_proxy::serve(int fd) {
    std::string buffer;
    char chunk[1 << 16];
    for (;;) {
        // One request: headers, then Content-Length bytes.
        std::size_t header_end;
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            const auto n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        proxied_request req;
        req.at = std::chrono::steady_clock::now();
        const std::string head = buffer.substr(0, header_end);
        std::size_t line_end = head.find("\r\n");
        const std::string request_line = head.substr(0, line_end);
        const auto sp1 = request_line.find(' ');
        const auto sp2 = request_line.find(' ', sp1 + 1);
        req.method = request_line.substr(0, sp1);
        req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        while (line_end != std::string::npos && line_end < head.size()) {
            const auto next = head.find("\r\n", line_end + 2);
            const std::string line = head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = line.substr(0, colon);
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                auto value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') value.erase(0, 1);
                req.headers[name] = value;
            }
            line_end = next;
        }
        const auto length_header = req.headers.find("content-length");
        const std::size_t length = length_header == req.headers.end() ? 0 : std::stoul(length_header->second);
        while (buffer.size() < header_end + 4 + length) {
            const auto n = ::recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) return;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        req.body = buffer.substr(header_end + 4, length);
        buffer.erase(0, header_end + 4 + length);
        const auto encoding = req.headers.find("content-encoding");
        const bool gzipped = encoding != req.headers.end() && encoding->second == "gzip";
        req.decoded_body = gzipped ? gunzip(req.body) : req.body;

        std::string forward_body = req.decoded_body;
        auto canned = policy_ ? policy_(req, forward_body) : std::nullopt;
        canned_answer answer;
        if (canned) {
            answer = *canned;
        } else {
            std::map<std::string, std::string> headers;
            const std::pair<const char*, const char*> passed[] = {
                {"content-type", "Content-Type"}, {"authorization", "Authorization"}, {"x-step-id", "X-Step-Id"}};
            for (const auto& [lower, name] : passed)
                if (const auto it = req.headers.find(lower); it != req.headers.end()) headers[name] = it->second;
            std::string body = req.body;
            if (gzipped && forward_body == req.decoded_body)
                headers["Content-Encoding"] = "gzip";  // forwarded as it came
            else
                body = forward_body;
            const auto res = e2e::http_request(upstream_, req.method, req.target, body, headers);
            answer.status = res.status;
            answer.body = res.body;
            for (const auto& name : {"content-type", "retry-after"})
                if (!res.header(name).empty()) answer.headers[name] = res.header(name);
        }
        req.answered = answer.status;
        {
            std::lock_guard lock(mu_);
            requests_.push_back(req);
        }
        std::string out = "HTTP/1.1 " + std::to_string(answer.status) + " " + reason_of(answer.status) + "\r\n";
        if (!answer.headers.count("content-type")) answer.headers["content-type"] = "application/json";
        for (const auto& [k, v] : answer.headers) out += k + ": " + v + "\r\n";
        out += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n\r\n" + answer.body;
        if (!send_all(fd, out)) return;
    }
}

}  // namespace obs::sdk_test
