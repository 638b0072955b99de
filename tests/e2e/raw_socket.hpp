// End-to-end test support: a loopback TCP socket driven byte by byte, for
// what the HTTP helpers of server_process.hpp hide on purpose: a receive
// buffer set before connecting, reads paced by the test, telling a close
// from a timeout and when it came, and answers split off a byte stream by
// their Content-Length. Header-only so the e2e library needs no new source.
#pragma once

#include <cctype>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace obs::e2e {

class raw_socket {
public:
    // Connects to 127.0.0.1:port; a receive buffer > 0 is set before the
    // connect, so the window the server sees is small from the start.
    explicit raw_socket(unsigned short port, int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket failed");
        if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            throw std::runtime_error("connect to 127.0.0.1 failed");
        }
    }
    ~raw_socket() { ::close(fd_); }
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    // Writes all of `bytes`; false when the peer is gone.
    bool send(const std::string& bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    enum class got { data, closed, timeout };

    // Reads at most `max` bytes into `out` (appended), waiting up to `limit`.
    // A reset counts as closed.
    got read_some(std::string& out, std::size_t max, std::chrono::milliseconds limit) {
        pollfd p{fd_, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(limit.count()));
        if (ready == 0) return got::timeout;
        std::string chunk(max, '\0');
        const auto n = ::recv(fd_, chunk.data(), max, 0);
        if (n <= 0) return got::closed;
        out.append(chunk.data(), static_cast<std::size_t>(n));
        return got::data;
    }

    // Reads until the server closes; nullopt when it has not closed within
    // `limit` (what arrived is in `out` either way).
    std::optional<std::chrono::steady_clock::duration> read_to_close(std::string& out,
                                                                     std::chrono::milliseconds limit) {
        const auto start = std::chrono::steady_clock::now();
        const auto deadline = start + limit;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                    std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            const got g = read_some(out, 65536, left);
            if (g == got::closed) return std::chrono::steady_clock::now() - start;
            if (g == got::timeout) return std::nullopt;
        }
    }

    // Reads until `text` has arrived in `received`; false when the server
    // closed or nothing came for `limit`.
    bool read_until_seen(const std::string& text, std::string& received,
                         std::chrono::milliseconds limit = std::chrono::seconds(30)) {
        while (received.find(text) == std::string::npos)
            if (read_some(received, 65536, limit) != got::data) return false;
        return true;
    }

    int fd() const { return fd_; }

private:
    int fd_ = -1;
};

// One answer cut off the front of a byte stream: status, lower-cased header
// names, the body by Content-Length (none for HEAD: `head_request`).
struct raw_answer {
    int status = 0;
    std::map<std::string, std::string> headers;
    std::string body;
};

// Takes one complete answer off the front of `bytes`; nullopt when `bytes`
// does not hold a complete one yet.
inline std::optional<raw_answer> take_answer(std::string& bytes, bool head_request = false) {
    const auto end = bytes.find("\r\n\r\n");
    if (end == std::string::npos || bytes.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
    raw_answer a;
    a.status = std::stoi(bytes.substr(9, 3));
    std::size_t line = bytes.find("\r\n") + 2;
    while (line < end) {
        const auto eol = bytes.find("\r\n", line);
        const auto colon = bytes.find(':', line);
        if (colon != std::string::npos && colon < eol) {
            std::string name = bytes.substr(line, colon - line);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::size_t v = colon + 1;
            while (v < eol && bytes[v] == ' ') ++v;
            a.headers[name] = bytes.substr(v, eol - v);
        }
        line = eol + 2;
    }
    std::size_t length = 0;
    if (!head_request && a.headers.count("content-length")) length = std::stoul(a.headers["content-length"]);
    if (bytes.size() < end + 4 + length) return std::nullopt;
    a.body = bytes.substr(end + 4, length);
    bytes.erase(0, end + 4 + length);
    return a;
}

// One SSE frame as the stream sends it: its fields by name (a repeated
// name keeps the last), comments dropped.
struct sse_frame {
    std::map<std::string, std::string> fields;
    bool has(const std::string& name) const { return fields.count(name) != 0; }
};

// Takes every complete frame (ended by an empty line) off the front of
// `bytes`; what remains is an incomplete frame. Comment-only frames (pings)
// are dropped.
inline std::vector<sse_frame> take_frames(std::string& bytes) {
    std::vector<sse_frame> frames;
    std::size_t start = 0;
    for (;;) {
        const auto end = bytes.find("\n\n", start);
        if (end == std::string::npos) break;
        sse_frame f;
        std::size_t line = start;
        while (line < end) {
            auto eol = bytes.find('\n', line);
            if (eol == std::string::npos || eol > end) eol = end;
            if (bytes[line] != ':') {
                const auto colon = bytes.find(':', line);
                const auto name_end = colon == std::string::npos || colon > eol ? eol : colon;
                std::size_t v = name_end < eol ? name_end + 1 : eol;
                if (v < eol && bytes[v] == ' ') ++v;
                f.fields[bytes.substr(line, name_end - line)] = bytes.substr(v, eol - v);
            }
            line = eol + 1;
        }
        if (!f.fields.empty()) frames.push_back(std::move(f));
        start = end + 2;
    }
    bytes.erase(0, start);
    return frames;
}

}  // namespace obs::e2e
