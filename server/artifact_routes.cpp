// The artifact routes (see artifact_routes.hpp). Bodies move between the
// socket and the files in chunks of chunk_bytes through Beast's buffer_body,
// each chunk read or written on a worker thread while the io thread serves
// other connections. Refusals sent before a body was read close the
// connection after a short, bounded drain, so the client reads the answer
// instead of a reset.
#include "server/artifact_routes.hpp"

#include "domain/artifact_name.hpp"
#include "domain/sha256.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "server/handlers.hpp"
#include "server/http_io.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <optional>

namespace obs::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t chunk_bytes = 256 * 1024;
constexpr std::string_view default_content_type = "application/octet-stream";
constexpr std::size_t max_content_type_bytes = 255;
// How much of an unwanted body is read and dropped after a refusal, and for
// how long, before the connection is closed.
constexpr std::size_t drain_limit_bytes = 4 * 1024 * 1024;
constexpr auto drain_time = std::chrono::milliseconds(1000);

using head_parser = http::request_parser<http::empty_body>;
using upload_ptr = std::shared_ptr<persistence::artifact_upload>;

// The request line, kept for the answer and the log.
struct request_line {
    std::string method;
    std::string path;  // without the query (which may hold secrets)
};

request_line line_of(const head_parser& head) {
    std::string target(head.get().target());
    return {std::string(head.get().method_string()), target.substr(0, target.find('?'))};
}

// Writes `answer`, logs the request, and says whether the connection may
// carry another request.
asio::awaitable<bool> answer_and_log(app& a, beast::tcp_stream& stream, const http_answer& answer, bool keep_alive,
                                     const request_line& line, std::chrono::steady_clock::time_point started,
                                     std::size_t bytes_in) {
    const auto sent = co_await write_answer(stream, answer, keep_alive, line.method, a);
    if (a.cfg().log_requests) log_request(line.method, line.path, answer.status, elapsed_us(started), bytes_in, sent);
    co_return keep_alive && sent > 0;
}

// Reads and drops what the client still sends, within bounds, after the
// answer went out with `Connection: close`: closing a socket with unread
// bytes resets it and may destroy the answer before the client reads it.
asio::awaitable<void> drain_after_refusal(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    buffer.clear();
    std::vector<char> scratch(64 * 1024);
    std::size_t dropped = 0;
    stream.expires_after(drain_time);
    while (dropped < drain_limit_bytes) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
        if (ec) break;
        dropped += n;
    }
}

// Answers a refusal made before the body was read (if there is one) and
// closes the connection unless the request had no body.
asio::awaitable<bool> refuse(app& a, beast::tcp_stream& stream, beast::flat_buffer& buffer, head_parser& head,
                             const http_answer& answer, const request_line& line,
                             std::chrono::steady_clock::time_point started) {
    const bool body_unread = !head.is_done();
    const bool reuse = co_await answer_and_log(a, stream, answer, head.get().keep_alive() && !body_unread, line,
                                               started, 0);
    if (body_unread) co_await drain_after_refusal(stream, buffer);
    co_return reuse;
}

// The Content-Type to store: the header as sent, or the default. nullopt
// when it is too long or not printable ASCII (it is sent back as a header
// and in JSON).
std::optional<std::string> stored_content_type(std::string_view header) {
    if (header.empty()) return std::string(default_content_type);
    if (header.size() > max_content_type_bytes) return std::nullopt;
    for (const char c : header)
        if (c < 0x20 || c > 0x7e) return std::nullopt;
    return std::string(header);
}

// What an upload's body reading ended with.
enum class body_end { complete, too_large, bad_http, gone, storage_failed };

// Reads the body into `upload`, chunk by chunk, each chunk written (and
// hashed) on a worker. Counts the bytes read into `total`.
asio::awaitable<body_end> receive_body(app& a, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                       http::request_parser<http::buffer_body>& parser, upload_ptr upload,
                                       std::uint64_t& total) {
    auto& service = *a.artifacts;
    std::vector<char> chunk(chunk_bytes);
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        // Per chunk: a slow but steady upload of a large file is fine.
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [ec, ignored] = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = chunk.size() - parser.get().body().size;
        if (ec) co_return is_http_parse_error(ec) && ec != http::error::partial_message ? body_end::bad_http
                                                                                         : body_end::gone;
        total += got;
        if (total > service.max_bytes()) co_return body_end::too_large;
        if (got == 0) continue;
        bool written = false;
        try {
            auto write_chunk = [upload, data = chunk.data(), got] {
                upload->write(data, got);
                return true;
            };
            written = co_await service.on_worker(std::move(write_chunk));
        } catch (const std::exception& e) {
            log_line("error", "artifact upload failed", {{"reason", e.what()}});
        }
        if (!written) co_return body_end::storage_failed;
    }
    co_return body_end::complete;
}

// The answer of an upload whose body ended otherwise than complete, or
// nullopt when the client is gone (nothing to answer).
std::optional<http_answer> answer_for(body_end end, std::uint64_t limit) {
    switch (end) {
        case body_end::too_large:
            return error_answer(make_error(error_code::too_large, "the artifact is larger than the limit of " +
                                                                      std::to_string(limit) + " bytes"));
        case body_end::bad_http:
            return error_answer(make_error(error_code::bad_request, "malformed HTTP request body"));
        case body_end::storage_failed: {
            api_error e = make_error(error_code::unavailable, "the artifact could not be stored; retry later");
            e.retry_after_seconds = 1;
            return error_answer(e);
        }
        case body_end::gone:
        case body_end::complete: break;
    }
    return std::nullopt;
}

// Commits the row and its event; the error answer when that failed.
asio::awaitable<std::optional<http_answer>> commit_row(app& a, const persistence::artifact_row& row) {
    std::vector<domain::event> batch;
    batch.push_back(make_artifact_event(row));
    // Named, then moved: GCC 12 mishandles a closure or a prvalue argument
    // written inside a co_await expression (see artifact_service::on_worker).
    persistence::in_transaction_hook hook = [row](sqlite3* db) { persistence::upsert_artifact(db, row); };
    auto outcome = co_await a.submit(std::move(batch), std::move(hook));
    if (!outcome) {
        api_error e = make_error(error_code::overloaded, "the write queue is full; nothing was stored, retry shortly");
        e.retry_after_seconds = 1;
        co_return error_answer(e);
    }
    if (outcome->result != persistence::write_outcome::status::committed) {
        log_line("error", "artifact row not committed", {{"reason", outcome->message}});
        api_error e = make_error(error_code::unavailable, "the database could not store the artifact; retry later");
        e.retry_after_seconds = 1;
        co_return error_answer(e);
    }
    ++a.counters().events_accepted;
    co_return std::nullopt;
}

std::string etag_of(std::string_view sha256) { return "\"" + std::string(sha256) + "\""; }

// Parses digits of a byte position; values past 2^64-1 saturate (a huge
// last-byte position is legal and means "to the end").
std::optional<std::uint64_t> parse_position(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : digits)
        if (c < '0' || c > '9') return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

artifact_service::artifact_service(asio::io_context& io, std::string data_dir, std::uint64_t max_bytes,
                                   std::size_t worker_threads)
    : io_(io), store_(std::move(data_dir)), max_bytes_(max_bytes), workers_(worker_threads) {
    if (const auto removed = store_.remove_stale_temporaries(); removed > 0)
        log_line("info", "removed unfinished artifact uploads", {{"files", removed}});
}

artifact_service::~artifact_service() { stop(); }

void artifact_service::stop() { workers_.join(); }

domain::event make_artifact_event(const persistence::artifact_row& row) {
    boost::json::object payload{{"name", row.name},
                                {"sha256", row.sha256},
                                {"size", row.size},
                                {"content_type", row.content_type}};
    if (row.step_id) payload["step_id"] = *row.step_id;
    domain::event ev;
    ev.id = row.id;
    ev.run_id = row.run_id;
    ev.type = domain::event_type::artifact;
    ev.ts_ms = row.created_ms;
    ev.received_ms = row.created_ms;
    ev.parent_id = row.step_id;
    ev.payload_json = boost::json::serialize(payload);
    ev.fingerprint = domain::sha256_hex(ev.payload_json);
    return ev;
}

range_decision decide_range(std::string_view range, std::uint64_t size) {
    range = trim(range);
    constexpr std::string_view unit = "bytes=";
    if (range.size() < unit.size()) return {};
    for (std::size_t i = 0; i < unit.size(); ++i)
        if ((range[i] | 0x20) != unit[i] && range[i] != unit[i]) return {};
    const std::string_view spec = trim(range.substr(unit.size()));
    if (spec.find(',') != std::string_view::npos) return {};  // several ranges: the whole file
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return {};
    const std::string_view first_text = trim(spec.substr(0, dash));
    const std::string_view last_text = trim(spec.substr(dash + 1));
    const range_decision unsatisfiable{range_decision::kind::unsatisfiable, 0, 0};

    if (first_text.empty()) {  // suffix: the last n bytes
        const auto n = parse_position(last_text);
        if (!n) return {};
        if (*n == 0 || size == 0) return unsatisfiable;
        return {range_decision::kind::partial, size - std::min(*n, size), size - 1};
    }
    const auto first = parse_position(first_text);
    if (!first) return {};
    std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
    if (!last_text.empty()) {
        const auto parsed = parse_position(last_text);
        if (!parsed || *parsed < *first) return {};  // invalid: ignored, as RFC 9110 says
        last = *parsed;
    }
    if (*first >= size) return unsatisfiable;
    return {range_decision::kind::partial, *first, std::min(last, size - 1)};
}

bool if_none_match_hits(std::string_view if_none_match, std::string_view sha256) {
    const std::string wanted = etag_of(sha256);
    std::string_view rest = if_none_match;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view tag = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (tag == "*") return true;
        if (tag.starts_with("W/")) tag.remove_prefix(2);  // If-None-Match compares weakly
        if (tag == wanted) return true;
    }
    return false;
}

asio::awaitable<bool> serve_artifact_put(app& a, route_match route, beast::tcp_stream& stream,
                                         beast::flat_buffer& buffer, head_parser& head,
                                         std::chrono::steady_clock::time_point started) {
    const request_line line = line_of(head);
    const auto& h = head.get();
    persistence::artifact_row row;
    row.run_id = route.run_id;
    row.name = route.artifact_name;

    std::optional<api_error> refusal;
    const auto step_header = h.find("X-Step-Id");
    const auto content_type = stored_content_type(h[http::field::content_type]);
    if (a.artifacts == nullptr) {
        refusal = make_error(error_code::unavailable, "artifact storage is not available");
    } else if (!domain::is_valid_id(row.run_id)) {
        refusal = make_error(error_code::bad_request, "a run id is 1-128 characters of [A-Za-z0-9._:-]");
    } else if (auto problem = domain::artifact_name_problem(row.name)) {
        refusal = make_error(error_code::bad_request, "the artifact name " + *problem);
    } else if (step_header != h.end() && !domain::is_valid_id(step_header->value())) {
        refusal = make_error(error_code::bad_request, "X-Step-Id must be an id: 1-128 characters of [A-Za-z0-9._:-]");
    } else if (!content_type) {
        refusal = make_error(error_code::bad_request, "Content-Type must be at most 255 printable ASCII characters");
    } else if (head.content_length() && *head.content_length() > a.artifacts->max_bytes()) {
        refusal = make_error(error_code::too_large, "the artifact is larger than the limit of " +
                                                        std::to_string(a.artifacts->max_bytes()) + " bytes");
    }
    if (refusal) co_return co_await refuse(a, stream, buffer, head, error_answer(*refusal), line, started);
    if (step_header != h.end()) row.step_id = std::string(step_header->value());
    row.content_type = *content_type;
    auto& service = *a.artifacts;

    if (h[http::field::expect] == "100-continue" && !head.is_done()) {
        static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(continue_line), use_tuple);
        if (ec) co_return false;
    }

    upload_ptr upload;
    try {
        auto begin = [&service] { return upload_ptr(service.store().begin_upload()); };
        upload = co_await service.on_worker(std::move(begin));
    } catch (const std::exception& e) {
        log_line("error", "artifact upload cannot start", {{"reason", e.what()}});
    }
    if (!upload) co_return co_await refuse(a, stream, buffer, head, *answer_for(body_end::storage_failed, 0), line,
                                           started);

    http::request_parser<http::buffer_body> parser(std::move(head));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // the limit is counted in receive_body
    std::uint64_t total = 0;
    body_end end = co_await receive_body(a, stream, buffer, parser, upload, total);
    std::optional<persistence::stored_content> stored;
    if (end == body_end::complete) {
        try {
            auto commit = [upload] { return upload->commit(); };
            stored = co_await service.on_worker(std::move(commit));
        } catch (const std::exception& e) {
            log_line("error", "artifact upload failed", {{"reason", e.what()}});
            end = body_end::storage_failed;
        }
    }
    // Before any answer: a refused upload leaves nothing behind.
    auto discard = [upload] {
        upload->discard();
        return true;
    };
    co_await service.on_worker(std::move(discard));
    upload.reset();
    if (end != body_end::complete) {
        auto answer = answer_for(end, service.max_bytes());
        if (!answer) {
            if (a.cfg().log_requests) log_request(line.method, line.path, 499, elapsed_us(started), total, 0);
            co_return false;
        }
        co_await answer_and_log(a, stream, *answer, false, line, started, total);
        if (end == body_end::too_large) co_await drain_after_refusal(stream, buffer);
        co_return false;
    }

    row.sha256 = stored->sha256;
    row.size = stored->size;
    row.created_ms = domain::now_unix_ms();
    row.id = domain::make_uuid_v7(row.created_ms);
    const bool keep_alive = parser.get().keep_alive();
    if (auto failed = co_await commit_row(a, row))
        co_return co_await answer_and_log(a, stream, *failed, keep_alive, line, started, total);
    http_answer created = json_answer(201, persistence::encode_artifact(row));
    created.headers.emplace_back("ETag", etag_of(row.sha256));
    co_return co_await answer_and_log(a, stream, created, keep_alive, line, started, total);
}

namespace {

// Sends `length` bytes of `content` from `first`, after the head in `res`.
// Returns the bytes written, or nullopt when the connection must close (the
// client left, or the file could not be read: the promised length is gone).
asio::awaitable<std::optional<std::size_t>> send_content(app& a, beast::tcp_stream& stream,
                                                         http::response<http::buffer_body>& res,
                                                         std::shared_ptr<persistence::artifact_content> content,
                                                         std::uint64_t first, std::uint64_t length) {
    auto& service = *a.artifacts;
    http::response_serializer<http::buffer_body> serializer(res);
    std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, length)));
    std::size_t sent = 0;
    std::uint64_t offset = first;
    std::uint64_t left = length;
    do {
        std::size_t got = 0;
        if (left > 0) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), left));
            try {
                auto read_chunk = [content, data = chunk.data(), offset, want] {
                    return content->read_at(offset, data, want);
                };
                got = co_await service.on_worker(std::move(read_chunk));
            } catch (const std::exception& e) {
                log_line("error", "artifact read failed", {{"reason", e.what()}});
            }
            if (got == 0) co_return std::nullopt;  // failed or truncated on disk
        }
        res.body().data = got > 0 ? chunk.data() : nullptr;
        res.body().size = got;
        res.body().more = left > got;
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [ec, n] = co_await http::async_write(stream, serializer, use_tuple);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return std::nullopt;
        sent += n;
        offset += got;
        left -= got;
    } while (left > 0);
    co_return sent;
}

}  // namespace

asio::awaitable<bool> serve_artifact_get(app& a, route_match route, beast::tcp_stream& stream,
                                         beast::flat_buffer& buffer, head_parser& head,
                                         std::chrono::steady_clock::time_point started) {
    const request_line line = line_of(head);
    const auto& h = head.get();
    const bool keep_alive = h.keep_alive() && head.is_done();

    std::optional<api_error> refusal;
    persistence::artifact_lookup found;
    if (a.artifacts == nullptr) {
        refusal = make_error(error_code::unavailable, "artifact storage is not available");
    } else if (!domain::is_valid_id(route.run_id)) {
        refusal = make_error(error_code::not_found, "no such run");
    } else if (auto problem = domain::artifact_name_problem(route.artifact_name)) {
        refusal = make_error(error_code::bad_request, "the artifact name " + *problem);
    } else {
        try {
            auto lookup = [run_id = route.run_id, name = route.artifact_name](sqlite3* db) {
                return persistence::find_artifact(db, run_id, name);
            };
            found = co_await a.read(std::move(lookup));
            if (!found.run_exists) refusal = make_error(error_code::not_found, "no run with id " + route.run_id);
            else if (!found.row) refusal = make_error(error_code::not_found, "the run has no artifact of that name");
        } catch (const api_failure& failure) {
            refusal = failure.error;
        } catch (const std::exception& e) {
            log_line("error", "artifact lookup failed", {{"route", line.path}, {"reason", e.what()}});
            refusal = make_error(error_code::internal, "internal error");
        }
    }
    if (refusal) co_return co_await refuse(a, stream, buffer, head, error_answer(*refusal), line, started);
    const persistence::artifact_row& row = *found.row;
    const std::string etag = etag_of(row.sha256);

    if (auto it = h.find(http::field::if_none_match); it != h.end() && if_none_match_hits(it->value(), row.sha256)) {
        http_answer not_modified{304, "", row.content_type, {{"ETag", etag}}};
        co_return co_await answer_and_log(a, stream, not_modified, keep_alive, line, started, 0);
    }

    std::shared_ptr<persistence::artifact_content> content;
    try {
        auto open = [&service = *a.artifacts, sha = row.sha256] {
            auto opened = service.store().open(sha);
            return opened ? std::make_shared<persistence::artifact_content>(std::move(*opened)) : nullptr;
        };
        content = co_await a.artifacts->on_worker(std::move(open));
    } catch (const std::exception& e) {
        log_line("error", "artifact open failed", {{"reason", e.what()}});
    }
    if (!content || content->size() != row.size) {
        log_line("error", "artifact content missing or changed on disk", {{"route", line.path}, {"sha256", row.sha256}});
        co_return co_await refuse(a, stream, buffer, head,
                                  error_answer(make_error(error_code::internal, "internal error")), line, started);
    }

    range_decision range;
    if (auto it = h.find(http::field::range); it != h.end()) {
        // If-Range: the range holds only for the same content.
        auto if_range = h.find(http::field::if_range);
        if (if_range == h.end() || if_range->value() == etag) range = decide_range(it->value(), row.size);
    }
    const std::string total = std::to_string(row.size);
    if (range.what == range_decision::kind::unsatisfiable) {
        http_answer answer = error_answer(
            make_error(error_code::range_not_satisfiable, "the range is outside the artifact's " + total + " bytes"));
        answer.headers.emplace_back("Content-Range", "bytes */" + total);
        co_return co_await answer_and_log(a, stream, answer, keep_alive, line, started, 0);
    }

    const bool partial = range.what == range_decision::kind::partial;
    const std::uint64_t first = partial ? range.first : 0;
    const std::uint64_t length = partial ? range.last - range.first + 1 : row.size;
    http::response<http::buffer_body> res{partial ? http::status::partial_content : http::status::ok, 11};
    res.set(http::field::server, "observability-server");
    res.set(http::field::content_type, row.content_type);
    res.set(http::field::etag, etag);
    res.set(http::field::accept_ranges, "bytes");
    res.set("X-Content-Type-Options", "nosniff");
    if (partial)
        res.set(http::field::content_range,
                "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" + total);
    res.keep_alive(keep_alive);
    res.content_length(length);
    ++a.counters().responses_2xx;
    const auto sent = co_await send_content(a, stream, res, content, first, length);
    if (a.cfg().log_requests)
        log_request(line.method, line.path, partial ? 206 : 200, elapsed_us(started), 0, sent.value_or(0));
    co_return keep_alive && sent.has_value();
}

asio::awaitable<http_answer> list_artifacts(app& a, std::string run_id, http_request_view req) {
    reject_unknown_params(parse_query(req.target), {});
    if (!domain::is_valid_id(run_id)) fail(error_code::not_found, "no such run");
    auto query = [run_id](sqlite3* db) { return persistence::list_artifacts(db, run_id); };
    auto rows = co_await a.read(std::move(query));
    if (!rows) fail(error_code::not_found, "no run with id " + run_id);
    std::string body = "{\"artifacts\":[";
    for (std::size_t i = 0; i < rows->size(); ++i) {
        if (i > 0) body += ',';
        body += persistence::encode_artifact((*rows)[i]);
    }
    body += "]}";
    co_return json_answer(200, std::move(body));
}

}  // namespace obs::server
