// Runs as RAII scopes; see run_scope.hpp.
#include "observability/run_scope.hpp"

#include "domain/time.hpp"
#include "domain/uuid.hpp"

#include <boost/core/demangle.hpp>
#include <boost/json/array.hpp>

#include <typeinfo>

namespace observability {

run_scope provider::run(std::string name, std::string agent) { return run(std::move(name), std::move(agent), {}); }

run_scope provider::run(std::string name, std::string agent, run_options opts) {
    std::string run_id = opts.run_id ? *opts.run_id : obs::domain::make_uuid_v7(obs::domain::now_unix_ms());
    boost::json::object payload{{"name", std::move(name)}, {"agent", std::move(agent)}};
    if (!opts.tags.empty()) {
        boost::json::array tags;
        for (auto& t : opts.tags) tags.emplace_back(std::move(t));
        payload.emplace("tags", std::move(tags));
    }
    if (!opts.metadata.empty()) {
        boost::json::object metadata;
        for (auto& [k, v] : opts.metadata) metadata.emplace(k, std::move(v));
        payload.emplace("metadata", std::move(metadata));
    }
    if (opts.parent_run_id) payload.emplace("parent_run_id", *opts.parent_run_id);
    log_options where{run_id, opts.node, std::nullopt, std::nullopt, std::nullopt};
    log("run_started", std::move(payload), where);  // throws for a bad id or field: no scope then
    return run_scope(*this, std::move(run_id), std::move(opts.node));
}

run_scope::run_scope(provider& p, std::string run_id, std::optional<std::string> node)
    : provider_(&p), run_id_(std::move(run_id)), node_(std::move(node)), uncaught_at_start_(std::uncaught_exceptions()) {}

run_scope::run_scope(run_scope&& other) noexcept
    : provider_(other.provider_),
      run_id_(std::move(other.run_id_)),
      node_(std::move(other.node_)),
      uncaught_at_start_(other.uncaught_at_start_),
      failed_(other.failed_),
      finished_(other.finished_) {
    other.finished_ = true;  // the moved-from scope ends nothing
}

run_scope::~run_scope() {
    if (finished_) return;
    try {
        if (std::uncaught_exceptions() > uncaught_at_start_ && !failed_) {
            // The exception in flight cannot be read here (it is not being
            // handled yet); fail(e) in a catch block records its type and text.
            log("error", {{"kind", "uncaught_exception"},
                          {"message", "the run's scope was left by an exception"},
                          {"fatal", true}});
            failed_ = true;
        }
        finish(failed_ ? "failed" : "succeeded");
    } catch (...) {
        // A destructor must not throw; the payloads above are valid by
        // construction, so only an allocation failure gets here.
    }
}

std::string run_scope::log(std::string_view step_type, boost::json::object data, log_options where) {
    where.run_id = run_id_;
    if (!where.node) where.node = node_;
    return provider_->log(step_type, std::move(data), where);
}

void run_scope::artifact(std::string name, std::string bytes, std::string content_type, std::string step_id) {
    provider_->artifact(run_id_, std::move(name), std::move(bytes), std::move(content_type), std::move(step_id));
}

void run_scope::fail(const std::exception& e) {
    log("error", {{"kind", boost::core::demangle(typeid(e).name())}, {"message", e.what()}, {"fatal", true}});
    failed_ = true;
}

void run_scope::finish(std::string status, std::optional<std::string> summary) {
    if (finished_) return;
    boost::json::object payload{{"status", std::move(status)}};
    if (summary) payload.emplace("summary", std::move(*summary));
    log("run_finished", std::move(payload));
    finished_ = true;
}

}  // namespace observability
