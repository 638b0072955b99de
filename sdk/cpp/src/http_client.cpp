// libcurl and zlib for the background thread; see http_client.hpp.
#include "http_client.hpp"

#include <curl/curl.h>
#include <sys/socket.h>
#include <zlib.h>

#include <cctype>
#include <charconv>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace observability::detail {
namespace {

struct curl_deleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct escaped_deleter {
    void operator()(char* s) const { curl_free(s); }
};

// curl_global_init is not thread-safe: once per process.
void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct response_sink {
    std::string body;
    std::optional<std::chrono::milliseconds> retry_after;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* sink = static_cast<response_sink*>(user);
    // Error bodies are small; an unexpected huge body is cut, not kept.
    if (sink->body.size() < (1u << 22)) sink->body.append(data, size * count);
    return size * count;
}

// Retry-After as delay-seconds; an HTTP date is taken relative to now.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* sink = static_cast<response_sink*>(user);
    std::string_view line(data, size * count);
    constexpr std::string_view name = "retry-after:";
    if (line.size() > name.size()) {
        bool match = true;
        for (std::size_t i = 0; i < name.size() && match; ++i)
            match = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
        if (match) {
            auto value = line.substr(name.size());
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
            long seconds = 0;
            const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
            if (ec == std::errc() && end == value.data() + value.size() && seconds >= 0) {
                sink->retry_after = std::chrono::seconds(seconds);
            } else {
                const std::string text(value);
                const auto when = curl_getdate(text.c_str(), nullptr);
                if (when > 0) sink->retry_after = std::chrono::seconds(std::max<long>(0, when - ::time(nullptr)));
            }
        }
    }
    return size * count;
}

// Socket buffers that hold a whole request body (at most 4 MiB) and its
// answer. With the kernel's default send buffer (16 KiB, growing) a body went
// out in many blocking writes, and each time the sending thread had to be
// scheduled again to write the next part: on a core the agent's own logging
// threads keep busy, each wait for the core took milliseconds, and a
// 1000-event request took 100 ms instead of 5 (scripts/bench-sdk, delivered
// rate while 4 threads log). The kernel caps the size at
// net.core.wmem_max / rmem_max.
constexpr int socket_buffer_bytes = 4 << 20;

int on_socket(void*, curl_socket_t fd, curlsocktype purpose) {
    if (purpose == CURLSOCKTYPE_IPCXN) {
        (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
    }
    return CURL_SOCKOPT_OK;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::atomic<bool>*>(user)->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

std::string gzip_compress(std::string_view data) {
    z_stream z{};
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&z, deflateEnd);
    std::string out;
    out.resize(deflateBound(&z, static_cast<uLong>(data.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(z.total_out);
    return out;
}

struct http_client::handle {
    std::unique_ptr<CURL, curl_deleter> curl;
};

http_client::http_client(std::string base_url, std::string api_key, const std::atomic<bool>& abort)
    : base_url_(std::move(base_url)), abort_(abort), handle_(std::make_unique<handle>()) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    if (!api_key.empty()) auth_header_ = "Authorization: Bearer " + api_key;
    init_curl_once();
    handle_->curl.reset(curl_easy_init());
    if (!handle_->curl) throw std::runtime_error("curl_easy_init failed");
}

http_client::~http_client() = default;

http_result http_client::perform(const std::string& method, const std::string& url, std::string_view body,
                                 const std::vector<std::string>& headers, std::chrono::milliseconds timeout) {
    CURL* c = handle_->curl.get();
    curl_easy_reset(c);  // keeps the connection cache: the connection stays alive
    std::unique_ptr<curl_slist, slist_deleter> list;
    for (const auto& h : headers) {
        curl_slist* next = curl_slist_append(list.get(), h.c_str());
        if (!next) return {0, {}, std::nullopt, "out of memory"};
        (void)list.release();
        list.reset(next);
    }
    response_sink sink;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &abort_);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long>(timeout.count(), 5000)));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_socket);
    // Fewer, larger copies between libcurl and the socket (2 MiB is the
    // largest upload buffer libcurl takes).
    curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 1L << 20);
    const CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) return {0, {}, std::nullopt, curl_easy_strerror(rc)};
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    return {static_cast<int>(status), std::move(sink.body), sink.retry_after, {}};
}

http_result http_client::post_events(std::string_view batch, bool gzip, std::chrono::milliseconds timeout) {
    std::vector<std::string> headers{"Content-Type: application/json", "Expect:"};
    if (!auth_header_.empty()) headers.push_back(auth_header_);
    const std::string url = base_url_ + "/observability/events";
    if (!gzip) return perform("POST", url, batch, headers, timeout);
    headers.emplace_back("Content-Encoding: gzip");
    const std::string compressed = gzip_compress(batch);
    return perform("POST", url, compressed, headers, timeout);
}

http_result http_client::put_artifact(const std::string& run_id, const std::string& name, std::string_view bytes,
                                      const std::string& content_type, const std::string& step_id,
                                      std::chrono::milliseconds timeout) {
    std::unique_ptr<char, escaped_deleter> escaped(
        curl_easy_escape(handle_->curl.get(), name.data(), static_cast<int>(name.size())));
    if (!escaped) return {0, {}, std::nullopt, "out of memory"};
    std::vector<std::string> headers{"Expect:"};
    headers.push_back("Content-Type: " + (content_type.empty() ? "application/octet-stream" : content_type));
    if (!step_id.empty()) headers.push_back("X-Step-Id: " + step_id);
    if (!auth_header_.empty()) headers.push_back(auth_header_);
    const std::string url = base_url_ + "/observability/runs/" + run_id + "/artifacts/" + escaped.get();
    return perform("PUT", url, bytes, headers, timeout);
}

}  // namespace observability::detail
