// S3 requests on curl_multi, signed by libcurl (see s3_client.hpp).
#include "backup/s3_client.hpp"

#include "domain/sha256.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <cctype>
#include <exception>
#include <stdexcept>

namespace obs::backup {

namespace asio = boost::asio;

namespace {

constexpr std::size_t max_response_body = 1024 * 1024;  // error documents and XML answers
const std::string empty_payload;

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

std::string xml_decode(std::string_view s) {
    static constexpr std::pair<std::string_view, char> entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}, {"&#34;", '"'}, {"&#39;", '\''}};
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        bool replaced = false;
        if (s[i] == '&') {
            for (const auto& [name, c] : entities) {
                if (s.substr(i, name.size()) == name) {
                    out += c;
                    i += name.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out += s[i++];
    }
    return out;
}

std::string xml_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        default: out += c;
        }
    }
    return out;
}

}  // namespace

bool s3_error::retryable() const {
    return http_status == 0 || http_status >= 500 || http_status == 429 || code == "RequestTimeout" ||
           code == "SlowDown" || code == "InternalError";
}

std::string s3_error::describe() const {
    if (http_status == 0) return "S3 cannot be reached (" + code + "): " + message;
    std::string out = "S3 " + (code.empty() ? std::string("error") : code) + " (HTTP " + std::to_string(http_status) + ")";
    if (!message.empty()) out += ": " + message;
    return out;
}

void throw_exception_from_error(const s3_error& e, const boost::source_location& loc) {
    boost::throw_exception(std::runtime_error(e.describe()), loc);
}

std::string xml_text(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    const auto start = xml.find(open);
    if (start == std::string_view::npos) return "";
    const auto from = start + open.size();
    const auto end = xml.find(close, from);
    if (end == std::string_view::npos) return "";
    return xml_decode(xml.substr(from, end - from));
}

s3_error parse_s3_error(long http_status, std::string_view body) {
    s3_error e;
    e.http_status = http_status;
    e.code = xml_text(body, "Code");
    e.message = xml_text(body, "Message");
    if (e.code.empty()) e.code = "HTTP" + std::to_string(http_status);
    return e;
}

std::string complete_multipart_body(const std::vector<std::string>& etags) {
    std::string body = R"(<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)";
    for (std::size_t i = 0; i < etags.size(); ++i) {
        body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + xml_escape(etags[i]) +
                "</ETag></Part>";
    }
    body += "</CompleteMultipartUpload>";
    return body;
}

struct s3_client::request {
    std::string method;        // GET, PUT, POST, DELETE
    std::string key;           // object key (not yet encoded)
    std::string query;         // encoded, parameters sorted by name
    shared_body body;          // null: empty
    std::string content_type;  // sent when not empty
    bool retry = true;         // safe to send again
    std::function<void(const char*, std::size_t)> sink;  // GET: the body's consumer
    std::string body_sha256;   // hex; empty: computed when sent
};

struct s3_client::response {
    long status = 0;
    std::string body;  // at most max_response_body bytes (not for a streamed GET)
    std::string etag;  // the ETag header, quotes kept
};

namespace {

// State the curl callbacks write into, alive for one attempt.
struct attempt_state {
    CURL* easy = nullptr;
    std::string body;
    std::string etag;
    const std::function<void(const char*, std::size_t)>* sink = nullptr;
    std::exception_ptr sink_error;

    static size_t on_header(char* data, size_t size, size_t n, void* userp) {
        auto* self = static_cast<attempt_state*>(userp);
        const std::string_view line(data, size * n);
        if (iequals_prefix(line, "etag:")) self->etag = trim(line.substr(5));
        return size * n;
    }

    static size_t on_body(char* data, size_t size, size_t n, void* userp) {
        auto* self = static_cast<attempt_state*>(userp);
        const std::size_t bytes = size * n;
        long status = 0;
        curl_easy_getinfo(self->easy, CURLINFO_RESPONSE_CODE, &status);
        if (self->sink != nullptr && status >= 200 && status < 300) {
            try {
                (*self->sink)(data, bytes);
            } catch (...) {
                self->sink_error = std::current_exception();
                return 0;  // curl aborts with CURLE_WRITE_ERROR
            }
            return bytes;
        }
        const std::size_t room = max_response_body - std::min(max_response_body, self->body.size());
        self->body.append(data, std::min(bytes, room));
        return bytes;
    }
};

}  // namespace

s3_client::s3_client(curl_multi& http, s3_config config, s3_client_options options)
    : http_(http), config_(std::move(config)), options_(options) {}

asio::awaitable<s3_result<s3_client::response>> s3_client::send_once_(const request& req) {
    const std::string& payload = req.body ? *req.body : empty_payload;
    easy_ptr easy = make_easy();
    CURL* h = easy.get();
    const std::string url = config_.object_url(req.key) + (req.query.empty() ? "" : "?" + req.query);
    const std::string sigv4 = "aws:amz:" + config_.region + ":s3";
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4.c_str());
    curl_easy_setopt(h, CURLOPT_USERNAME, config_.access_key_id.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));

    // curl 7.88 neither adds x-amz-content-sha256 nor derives it from the
    // body; S3 rejects a request without it.
    slist_ptr headers;
    // A 5 MiB part takes 25 ms to hash here: the uploader hashes parts on
    // the backup worker, and only small bodies are hashed on the io thread.
    const std::string payload_sha256 = req.body_sha256.empty() ? domain::sha256_hex(payload) : req.body_sha256;
    append_header(headers, "x-amz-content-sha256: " + payload_sha256);
    if (!config_.session_token.empty()) append_header(headers, "x-amz-security-token: " + config_.session_token);
    if (!req.content_type.empty()) append_header(headers, "Content-Type: " + req.content_type);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

    if (req.method == "GET") {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (req.method == "DELETE") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        // POSTFIELDS (not an upload callback) so that the bytes curl hashes
        // for the signature are the bytes sent.
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload.data());
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }

    attempt_state state;
    state.easy = h;
    state.sink = req.sink ? &req.sink : nullptr;
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &attempt_state::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &state);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &attempt_state::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);

    // GCC 12 mishandles temporaries inside co_await expressions: results go
    // through named variables in this file.
    const transfer_result t = co_await http_.perform(h);
    if (state.sink_error) std::rethrow_exception(state.sink_error);
    if (!t.ok()) co_return s3_error{0, "Unreachable", t.error};
    if (t.http_status < 200 || t.http_status >= 300) co_return parse_s3_error(t.http_status, state.body);
    co_return response{t.http_status, std::move(state.body), std::move(state.etag)};
}

asio::awaitable<s3_result<s3_client::response>> s3_client::send_(request req) {
    auto backoff = options_.backoff;
    for (int attempt = 1;; ++attempt) {
        s3_result<response> r = co_await send_once_(req);
        if (r || !req.retry || attempt >= options_.tries || !r.error().retryable()) co_return r;
        asio::steady_timer wait(http_.get_executor(), backoff);
        co_await wait.async_wait(asio::use_awaitable);
        backoff *= 2;
    }
}

asio::awaitable<s3_result<std::string>> s3_client::put_object(std::string key, shared_body body,
                                                             std::string body_sha256) {
    request req{"PUT", std::move(key), "", std::move(body), "application/gzip", true, {}, std::move(body_sha256)};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    co_return r->etag;
}

asio::awaitable<s3_result<std::string>> s3_client::create_multipart_upload(std::string key) {
    request req{"POST", std::move(key), "uploads=", nullptr, "application/gzip", true, {}, {}};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    std::string id = xml_text(r->body, "UploadId");
    if (id.empty()) co_return s3_error{r->status, "MalformedResponse", "CreateMultipartUpload answered no UploadId"};
    co_return id;
}

asio::awaitable<s3_result<std::string>> s3_client::upload_part(std::string key, std::string upload_id,
                                                               int part_number, shared_body body,
                                                               std::string body_sha256) {
    // Parameters in sorted order: curl signs the query as written.
    std::string query = "partNumber=" + std::to_string(part_number) + "&uploadId=" + uri_encode(upload_id, false);
    request req{"PUT",           std::move(key), std::move(query), std::move(body), "application/octet-stream",
                true,            {},             std::move(body_sha256)};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    if (r->etag.empty()) co_return s3_error{r->status, "MalformedResponse", "UploadPart answered no ETag"};
    co_return r->etag;
}

asio::awaitable<s3_result<void>> s3_client::complete_multipart_upload(std::string key, std::string upload_id,
                                                                      std::vector<std::string> etags) {
    auto body = std::make_shared<const std::string>(complete_multipart_body(etags));
    request req{"POST", std::move(key), "uploadId=" + uri_encode(upload_id, false), std::move(body), "application/xml",
                true, {}, {}};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    // S3 may answer 200 and report the failure in the body.
    if (r->body.find("<Error>") != std::string::npos) co_return parse_s3_error(r->status, r->body);
    co_return boost::system::result<void, s3_error>{};
}

asio::awaitable<s3_result<void>> s3_client::abort_multipart_upload(std::string key, std::string upload_id) {
    request req{"DELETE", std::move(key), "uploadId=" + uri_encode(upload_id, false), nullptr, "", true, {}, {}};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    co_return boost::system::result<void, s3_error>{};
}

asio::awaitable<s3_result<void>> s3_client::delete_object(std::string key) {
    request req{"DELETE", std::move(key), "", nullptr, "", true, {}, {}};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    co_return boost::system::result<void, s3_error>{};
}

asio::awaitable<s3_result<std::uint64_t>> s3_client::get_object(std::string key,
                                                                std::function<void(const char*, std::size_t)> sink) {
    std::uint64_t bytes = 0;
    auto counting = [&bytes, &sink](const char* data, std::size_t n) {
        sink(data, n);
        bytes += n;
    };
    request req{"GET", std::move(key), "", nullptr, "", false, counting, {}};
    auto r = co_await send_(std::move(req));
    if (!r) co_return r.error();
    co_return s3_result<std::uint64_t>(boost::system::in_place_value, bytes);
}

}  // namespace obs::backup
