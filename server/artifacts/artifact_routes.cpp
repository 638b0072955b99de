// The artifact routes (see artifact_routes.hpp): what each request is
// answered, from its head, the store and the database. The header decisions
// (Range, If-None-Match, Content-Type) are artifact_http.cpp's; the bytes
// move in chunk_bytes pieces, each read or written on an artifact_service
// worker while the io thread serves other connections. A refusal sent before
// the body was read closes the connection (the session drains it briefly).
#include "server/artifacts/artifact_routes.hpp"

#include "domain/artifact_name.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "persistence/artifact_store.hpp"
#include "server/app.hpp"
#include "server/artifacts/artifact_http.hpp"
#include "server/artifacts/artifact_service.hpp"
#include "server/http/query.hpp"
#include "server/log.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace obs::server {
namespace asio = boost::asio;

namespace {

constexpr std::size_t chunk_bytes = 256 * 1024;

using upload_ptr = std::shared_ptr<persistence::artifact_upload>;

api_error storage_failed() {
    api_error e = make_error(error_code::unavailable, "the artifact could not be stored; retry later");
    e.retry_after_seconds = 1;
    return e;
}

api_error too_large(std::uint64_t limit) {
    return make_error(error_code::too_large,
                      "the artifact is larger than the limit of " + std::to_string(limit) + " bytes");
}

// What the head alone refuses, or nullopt.
std::optional<api_error> put_refusal(const request& req, std::uint64_t limit) {
    const auto& run_id = req.param("run_id");
    const auto step = req.header("x-step-id");
    if (!domain::is_valid_id(run_id))
        return make_error(error_code::bad_request, "a run id is 1-128 characters of [A-Za-z0-9._:-]");
    if (auto problem = domain::artifact_name_problem(req.param("name")))
        return make_error(error_code::bad_request, "the artifact name " + *problem);
    if (step && !domain::is_valid_id(*step))
        return make_error(error_code::bad_request, "X-Step-Id must be an id: 1-128 characters of [A-Za-z0-9._:-]");
    if (!stored_content_type(req.header("content-type").value_or("")))
        return make_error(error_code::bad_request, "Content-Type must be at most 255 printable ASCII characters");
    if (auto length = req.header("content-length")) {
        const std::string text(*length);
        char* end = nullptr;
        const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
        if (end != text.c_str() && *end == '\0' && n > limit) return too_large(limit);
    }
    return std::nullopt;
}

// Reads the body into `upload`, each chunk written (and hashed) on a
// worker; nullopt when all of it was stored, else the error to answer.
asio::awaitable<std::optional<api_error>> receive_body(app& a, body_reader& body, upload_ptr upload) {
    auto& service = a.artifacts();
    std::vector<char> chunk(chunk_bytes);
    std::uint64_t total = 0;
    for (;;) {
        const std::span<char> into(chunk);
        const auto got = co_await body.read(into);
        switch (got.what) {
            case body_reader::status::end: co_return std::nullopt;
            case body_reader::status::bad_http:
                co_return make_error(error_code::bad_request, "malformed HTTP request body");
            case body_reader::status::gone: co_return make_error(error_code::bad_request, "the upload ended early");
            case body_reader::status::data: break;
        }
        total += got.size;
        if (total > service.max_bytes()) co_return too_large(service.max_bytes());
        bool written = false;
        try {
            auto write_chunk = [upload, data = chunk.data(), n = got.size] {
                upload->write(data, n);
                return true;
            };
            written = co_await service.on_worker(std::move(write_chunk));
        } catch (const std::exception& e) {
            log_line("error", "artifact upload failed", {{"reason", e.what()}});
        }
        if (!written) co_return storage_failed();
    }
}

// The stored file's bytes from `first`, for a streamed answer.
streamed_answer content_answer(app& a, std::shared_ptr<persistence::artifact_content> content, std::uint64_t first,
                               std::uint64_t length) {
    streamed_answer answer;
    answer.length = length;
    auto offset = std::make_shared<std::uint64_t>(first);
    answer.read_next = [&service = a.artifacts(), content, offset](std::span<char> into)
        -> asio::awaitable<std::optional<std::size_t>> {
        std::size_t got = 0;
        try {
            auto read_chunk = [content, data = into.data(), at = *offset, want = into.size()] {
                return content->read_at(at, data, want);
            };
            got = co_await service.on_worker(std::move(read_chunk));
        } catch (const std::exception& e) {
            log_line("error", "artifact read failed", {{"reason", e.what()}});
            co_return std::nullopt;
        }
        *offset += got;
        co_return got;
    };
    return answer;
}

}  // namespace

asio::awaitable<handler_result> put_artifact(app& a, request req) {
    auto& service = a.artifacts();
    if (auto refusal = put_refusal(req, service.max_bytes())) co_return *refusal;
    persistence::artifact_row row;
    row.run_id = req.param("run_id");
    row.name = req.param("name");
    if (auto step = req.header("x-step-id")) row.step_id = std::string(*step);
    row.content_type = *stored_content_type(req.header("content-type").value_or(""));

    upload_ptr upload;
    try {
        auto begin = [&service] { return upload_ptr(service.store().begin_upload()); };
        upload = co_await service.on_worker(std::move(begin));
    } catch (const std::exception& e) {
        log_line("error", "artifact upload cannot start", {{"reason", e.what()}});
    }
    if (!upload) co_return storage_failed();

    std::optional<api_error> failed = co_await receive_body(a, *req.upload, upload);
    std::optional<persistence::stored_content> stored;
    if (!failed) {
        try {
            auto commit = [upload] { return upload->commit(); };
            stored = co_await service.on_worker(std::move(commit));
        } catch (const std::exception& e) {
            log_line("error", "artifact upload failed", {{"reason", e.what()}});
            failed = storage_failed();
        }
    }
    // Before any answer: a refused upload leaves nothing behind.
    auto discard = [upload] {
        upload->discard();
        return true;
    };
    co_await service.on_worker(std::move(discard));
    if (failed) co_return *failed;

    row.sha256 = stored->sha256;
    row.size = stored->size;
    row.created_ms = domain::now_unix_ms();
    row.id = domain::make_uuid_v7(row.created_ms);
    std::vector<domain::event> batch;
    batch.push_back(make_artifact_event(row));
    std::optional<persistence::artifact_row> typed_row = row;
    auto outcome = co_await a.submit(std::move(batch), std::move(typed_row));
    if (!outcome) {
        if (outcome.error().code != error_code::overloaded) {
            log_line("error", "artifact row not committed", {{"reason", outcome.error().message}});
            co_return storage_failed();
        }
        co_return outcome.error();
    }
    http_answer created = json_answer(201, persistence::encode_artifact(row));
    created.headers.emplace_back("ETag", etag_of(row.sha256));
    co_return created;
}

asio::awaitable<handler_result> get_artifact(app& a, request req) {
    const std::string run_id = req.param("run_id");
    const std::string name = req.param("name");
    if (!domain::is_valid_id(run_id)) co_return failure(error_code::not_found, "no such run");
    if (auto problem = domain::artifact_name_problem(name))
        co_return failure(error_code::bad_request, "the artifact name " + *problem);
    auto lookup = [run_id, name](sqlite3* db) { return persistence::find_artifact(db, run_id, name); };
    auto found = co_await a.read(std::move(lookup));
    if (!found) co_return found.error();
    if (!found->run_exists) co_return failure(error_code::not_found, "no run with id " + run_id);
    if (!found->row) co_return failure(error_code::not_found, "the run has no artifact of that name");
    const persistence::artifact_row row = *found->row;
    const std::string etag = etag_of(row.sha256);

    if (auto tags = req.header("if-none-match"); tags && if_none_match_hits(*tags, row.sha256))
        co_return http_answer{304, "", row.content_type, {{"ETag", etag}}};

    std::shared_ptr<persistence::artifact_content> content;
    try {
        auto open = [&service = a.artifacts(), sha = row.sha256] {
            auto opened = service.store().open(sha);
            return opened ? std::make_shared<persistence::artifact_content>(std::move(*opened)) : nullptr;
        };
        content = co_await a.artifacts().on_worker(std::move(open));
    } catch (const std::exception& e) {
        log_line("error", "artifact open failed", {{"reason", e.what()}});
    }
    if (!content || content->size() != row.size) {
        log_line("error", "artifact content missing or changed on disk", {{"sha256", row.sha256}});
        co_return failure(error_code::internal, "internal error");
    }

    range_decision range;
    if (auto asked = req.header("range")) {
        // If-Range: the range holds only for the same content.
        const auto if_range = req.header("if-range");
        if (!if_range || *if_range == etag) range = decide_range(*asked, row.size);
    }
    const std::string total = std::to_string(row.size);
    if (range.what == range_decision::kind::unsatisfiable) {
        http_answer answer = error_answer(
            make_error(error_code::range_not_satisfiable, "the range is outside the artifact's " + total + " bytes"));
        answer.headers.emplace_back("Content-Range", "bytes */" + total);
        co_return answer;
    }
    const bool partial = range.what == range_decision::kind::partial;
    const std::uint64_t first = partial ? range.first : 0;
    const std::uint64_t length = partial ? range.last - range.first + 1 : row.size;
    streamed_answer answer = content_answer(a, std::move(content), first, length);
    answer.status = partial ? 206 : 200;
    answer.content_type = row.content_type;
    answer.headers = {{"ETag", etag}, {"Accept-Ranges", "bytes"}, {"X-Content-Type-Options", "nosniff"}};
    if (partial)
        answer.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                         std::to_string(range.last) + "/" + total);
    co_return answer;
}

asio::awaitable<handler_result> list_artifacts(app& a, request req) {
    const std::string run_id = req.param("run_id");
    if (auto params = parse_query(req.target, {}); !params) co_return params.error();
    if (!domain::is_valid_id(run_id)) co_return failure(error_code::not_found, "no such run");
    auto query = [run_id](sqlite3* db) { return persistence::list_artifacts(db, run_id); };
    auto rows = co_await a.read(std::move(query));
    if (!rows) co_return rows.error();
    if (!*rows) co_return failure(error_code::not_found, "no run with id " + run_id);
    std::string body = "{\"artifacts\":[";
    for (std::size_t i = 0; i < (*rows)->size(); ++i) {
        if (i > 0) body += ',';
        body += persistence::encode_artifact((**rows)[i]);
    }
    body += "]}";
    co_return json_answer(200, std::move(body));
}

}  // namespace obs::server
