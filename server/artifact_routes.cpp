// The artifact routes (see artifact_routes.hpp): what each request is
// answered, from its head, the store and the database. The bytes themselves
// move through artifact_transfer.cpp, the header decisions (Range,
// If-None-Match, Content-Type) are artifact_http.cpp's. Refusals sent before
// a body was read close the connection after a short, bounded drain, so the
// client reads the answer instead of a reset.
//
// GCC 12: every argument of a co_await-ed call here is a named variable (or
// a trivial value); a closure or a non-trivial temporary written inside the
// co_await expression is relocated bitwise across the suspension.
#include "server/artifact_routes.hpp"

#include "domain/artifact_name.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "server/artifact_transfer.hpp"
#include "server/handlers.hpp"
#include "server/http_io.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/field.hpp>

#include <limits>
#include <memory>
#include <optional>

namespace obs::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

}  // namespace

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
    if (refusal) {
        const http_answer refused = error_answer(*refusal);
        co_return co_await refuse(a, stream, buffer, head, refused, line, started);
    }
    if (step_header != h.end()) row.step_id = std::string(step_header->value());
    row.content_type = *content_type;
    auto& service = *a.artifacts;

    if (h[http::field::expect] == "100-continue" && !head.is_done()) {
        const bool continued = co_await write_continue(stream, a);
        if (!continued) co_return false;
    }

    upload_ptr upload;
    try {
        auto begin = [&service] { return upload_ptr(service.store().begin_upload()); };
        upload = co_await service.on_worker(std::move(begin));
    } catch (const std::exception& e) {
        log_line("error", "artifact upload cannot start", {{"reason", e.what()}});
    }
    if (!upload) {
        const http_answer unavailable = *answer_for(body_end::storage_failed, 0);
        co_return co_await refuse(a, stream, buffer, head, unavailable, line, started);
    }

    http::request_parser<http::buffer_body> parser(std::move(head));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // the limit is counted in receive_artifact_body
    std::uint64_t total = 0;
    body_end end = co_await receive_artifact_body(a, stream, buffer, parser, upload, total);
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
    if (refusal) {
        const http_answer refused = error_answer(*refusal);
        co_return co_await refuse(a, stream, buffer, head, refused, line, started);
    }
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
        const http_answer internal = error_answer(make_error(error_code::internal, "internal error"));
        co_return co_await refuse(a, stream, buffer, head, internal, line, started);
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
    const auto sent = co_await send_artifact_content(a, stream, res, content, first, length);
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
