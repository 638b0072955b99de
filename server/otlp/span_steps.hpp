// The events of one span, as span_mapper makes them (its header comment
// has the ids and runs they get; docs/otlp.md the table): the run's start
// and end for a root or agent span, the span's own step (an llm_call, a
// tool_call with its tool_result, or a `span`) and its errors. Internal to
// server/otlp: span_mapper works out a span_context per span and checks the
// drafts through event_finish.
#pragma once

#include "server/otlp/conventions.hpp"
#include "server/otlp/event_finish.hpp"
#include "server/otlp/trace_data.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::otlp {

// What the mapping of one span needs, worked out once per span.
struct span_context {
    const span& s;
    const attribute_map& resource;
    const std::optional<std::string>& node;  // the resource's, clipped
    const std::string& run_id;
    std::string primary;                // the primary event id
    std::optional<std::string> parent;  // the parent span's primary id
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    std::int64_t duration_ms = 0;
    span_role role = span_role::other;
    bool root = false;
    bool failed = false;         // status ERROR
    bool has_exception = false;  // an `exception` span event
};

// Builds the drafts of spans; each payload on the storage given (the
// mapper's arena for the span).
class span_steps {
public:
    explicit span_steps(const boost::json::storage_ptr& sp) : sp_(sp) {}
    // Appends the events of the span `c` describes to `out`, in order.
    void add_all(const span_context& c, std::vector<event_draft>& out) const;

private:
    using object = boost::json::object;
    // One event of the span: its envelope and `payload` (built on sp_).
    event_draft draft(const span_context& c, std::string id, domain::event_type type, std::int64_t ts_ms,
                      const std::optional<std::string>& parent, const std::string& run_id,
                      object payload) const;
    // The first of `keys` in `attributes` as text (text_attribute), else
    // `fallback`; on sp_.
    boost::json::value text_or(const attribute_map& attributes, std::initializer_list<std::string_view> keys,
                               std::string_view fallback) const;
    void add_step(const span_context& c, std::vector<event_draft>& out) const;
    object llm_payload(const span_context& c) const;
    object tool_payload(const span_context& c) const;
    object span_payload(const span_context& c) const;
    void add_tool_result(const span_context& c, std::vector<event_draft>& out) const;
    void add_run_start(const span_context& c, std::string id, const std::string& run_id,
                       const std::optional<std::string>& parent_run, std::vector<event_draft>& out) const;
    void add_run_end(const span_context& c, const std::string& run_id, std::vector<event_draft>& out) const;
    void add_errors(const span_context& c, std::vector<event_draft>& out) const;

    const boost::json::storage_ptr& sp_;
};

}  // namespace obs::otlp
