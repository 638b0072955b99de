// Implementation of the shared test helpers (see support.hpp).
#include "support.hpp"

#include "persistence/migrations.hpp"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace obs::persistence::test {

namespace {
std::atomic<int> next_db{0};
std::atomic<int> next_id{0};
}  // namespace

temp_db::temp_db(bool migrate) {
    const auto name = "obs-persistence-" + std::to_string(::getpid()) + "-" + std::to_string(next_db++) + ".db";
    path_ = (std::filesystem::temp_directory_path() / name).string();
    std::filesystem::remove(path_);
    if (migrate) {
        db_ptr db = open();
        apply_migrations(db.get(), embedded_migrations());
    }
}

temp_db::~temp_db() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path_ + suffix, ec);
}

writer_options temp_db::writer_opts() const {
    writer_options o;
    o.db_path = path_;
    return o;
}

domain::event make_event(const std::string& run_id, domain::event_type type, std::string payload_json,
                         std::int64_t ts_ms, std::string id) {
    domain::event ev;
    ev.id = id.empty() ? "ev-" + std::to_string(next_id++) : std::move(id);
    ev.id_given = true;
    ev.run_id = run_id;
    ev.type = type;
    ev.ts_ms = ts_ms;
    ev.ts_given = true;
    ev.received_ms = ts_ms + 7;
    ev.payload_json = std::move(payload_json);
    return ev;
}

domain::event run_started(const std::string& run_id, const std::string& name, const std::string& agent,
                          std::int64_t ts_ms, const std::string& tags_json, const std::string& metadata_json,
                          std::optional<std::string> parent) {
    std::string payload = R"({"name":")" + name + R"(","agent":")" + agent + R"(","tags":)" + tags_json +
                          R"(,"metadata":)" + metadata_json + "}";
    domain::event ev = make_event(run_id, domain::event_type::run_started, payload, ts_ms);
    ev.facts.name = name;
    ev.facts.agent = agent;
    ev.facts.tags_json = tags_json;
    ev.facts.metadata_json = metadata_json;
    ev.facts.parent_run_id = std::move(parent);
    return ev;
}

domain::event run_finished(const std::string& run_id, const std::string& status, std::int64_t ts_ms) {
    domain::event ev = make_event(run_id, domain::event_type::run_finished, R"({"status":")" + status + "\"}", ts_ms);
    ev.facts.final_status = status;
    return ev;
}

domain::event llm_call(const std::string& run_id, std::int64_t in, std::int64_t out, double cost,
                       std::int64_t ts_ms) {
    domain::event ev = make_event(run_id, domain::event_type::llm_call,
                                  R"({"model":"m","input_tokens":)" + std::to_string(in) + R"(,"output_tokens":)" +
                                      std::to_string(out) + "}",
                                  ts_ms);
    ev.facts.input_tokens = in;
    ev.facts.output_tokens = out;
    ev.facts.cost_usd = cost;
    return ev;
}

domain::event error_event(const std::string& run_id, std::int64_t ts_ms) {
    return make_event(run_id, domain::event_type::error, R"({"kind":"k","message":"boom"})", ts_ms);
}

domain::event thought(const std::string& run_id, std::int64_t ts_ms, std::string id) {
    return make_event(run_id, domain::event_type::thought, R"({"text":"hmm"})", ts_ms, std::move(id));
}

std::future<write_outcome> submit(event_writer& w, std::vector<domain::event> batch, in_transaction_hook hook) {
    auto promise = std::make_shared<std::promise<write_outcome>>();
    std::future<write_outcome> f = promise->get_future();
    const bool accepted =
        w.try_submit(std::move(batch), [promise](write_outcome o) { promise->set_value(std::move(o)); },
                     std::move(hook));
    if (!accepted) {
        // No Boost.Test macro here: submitters run on several threads.
        write_outcome refused;
        refused.result = write_outcome::status::failed;
        refused.message = "refused by try_submit";
        promise->set_value(std::move(refused));
    }
    return f;
}

write_outcome wait(std::future<write_outcome>& f) {
    BOOST_REQUIRE_MESSAGE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready,
                          "no write outcome within a minute");
    return f.get();
}

std::int64_t query_int(sqlite3* db, const std::string& sql) {
    stmt_ptr s = prepare(db, sql);
    if (sqlite3_step(s.get()) != SQLITE_ROW) throw std::runtime_error("no row from " + sql);
    return sqlite3_column_int64(s.get(), 0);
}

std::string query_text(sqlite3* db, const std::string& sql) {
    stmt_ptr s = prepare(db, sql);
    if (sqlite3_step(s.get()) != SQLITE_ROW) throw std::runtime_error("no row from " + sql);
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
    return text == nullptr ? std::string{"<null>"} : std::string{text};
}

write_lock::write_lock(const temp_db& db) : db_(db.open()) {
    exec(db_.get(), "BEGIN IMMEDIATE");
    held_ = true;
}

void write_lock::release() {
    if (!held_) return;
    held_ = false;
    exec(db_.get(), "ROLLBACK");
}

in_transaction_hook gate::hook() {
    return [this](sqlite3*) {
        entered_.set_value();
        opened_future_.wait();
    };
}

void gate::wait_entered() {
    BOOST_REQUIRE_MESSAGE(entered_.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready,
                          "the writer did not reach the gate within a minute");
}

void gate::open() {
    if (is_open_) return;
    is_open_ = true;
    opened_.set_value();
}

}  // namespace obs::persistence::test
