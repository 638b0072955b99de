// A run as an RAII scope: provider::run() logs `run_started`, and the scope's
// end logs `run_finished` — `succeeded`, or `failed` after an `error` step
// when the scope is left by an exception (std::uncaught_exceptions) or fail()
// was called. Steps logged through the scope carry its run id.
#pragma once

#include "observability/provider.hpp"

#include <boost/json/object.hpp>

#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace observability {

struct run_options {
    std::optional<std::string> run_id{};         // default: a fresh UUIDv7
    std::vector<std::string> tags{};
    std::map<std::string, std::string> metadata{};
    std::optional<std::string> parent_run_id{};
    std::optional<std::string> node{};           // the node of run_started/run_finished
};

class run_scope {
public:
    run_scope(run_scope&& other) noexcept;
    run_scope& operator=(run_scope&&) = delete;
    run_scope(const run_scope&) = delete;
    run_scope& operator=(const run_scope&) = delete;
    // Logs run_finished unless finish() did already. Never throws: a
    // validation error here is impossible (the scope built the payloads).
    ~run_scope();

    const std::string& id() const { return run_id_; }

    // provider::log with this run's id; `where.run_id` is ignored.
    std::string log(std::string_view step_type, boost::json::object data, log_options where = {});
    void artifact(std::string name, std::string bytes, std::string content_type = {}, std::string step_id = {});

    // Logs an `error` step for `e` (its dynamic type, message, fatal) and
    // marks the run failed; the scope's end then logs run_finished `failed`.
    void fail(const std::exception& e);
    // Ends the run now with `status` (succeeded|failed|cancelled).
    void finish(std::string status, std::optional<std::string> summary = std::nullopt);

private:
    friend class provider;
    run_scope(provider& p, std::string run_id, std::optional<std::string> node);

    provider* provider_;
    std::string run_id_;
    std::optional<std::string> node_;
    int uncaught_at_start_;
    bool failed_ = false;
    bool finished_ = false;
};

}  // namespace observability
