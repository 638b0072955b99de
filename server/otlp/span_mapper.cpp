// The span mapping (see span_mapper.hpp; docs/otlp.md has the table).
//
// Event ids: "otel-<trace id>-<span id>" is a span's primary event (the
// step its children's parent_id names: the llm_call, tool_call or span, or
// the run_started of a root agent span); its other events add a role:
// "-result" (tool_result), "-error" (the status), "-exception-N" (the Nth
// exception event), "-run" (a run_started that is not the primary) and
// "-end" (run_finished). A child span's parent_id is its parent span's
// primary id, which is known without the parent: exporters send children
// before their parents.
//
// Runs: spans of one trace go to one run, "otel-<trace id>", or the
// gen_ai.conversation.id that a span of that trace in the same request
// carries (when it is a valid id). A root span (no parent) opens and closes
// that run; a nested agent span is a `span` step of that run plus a child
// run "otel-<trace id>-<span id>" with parent_run_id, opened and closed by
// it. The steps under a nested agent stay in the trace's run, under the
// agent's step: which run a span belongs to must not depend on spans that
// may arrive in a later request.
#include "server/otlp/span_mapper.hpp"

#include "domain/time.hpp"
#include "domain/validation.hpp"
#include "server/otlp/conventions.hpp"
#include "server/otlp/event_finish.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>

#include <unordered_map>
#include <unordered_set>

namespace obs::otlp {

namespace json = boost::json;

namespace {

constexpr std::size_t max_messages = 3;  // rejected spans named in error_message
// Room for every field of a payload (at most 8 per type) and of the run's
// metadata (4): objects built once, without a rehash as they fill.
constexpr std::size_t payload_fields = 8;

// Empties the drafts of a span, whose payloads live in the span's arena,
// before that arena goes (declared after it).
struct drafts_clearer {
    std::vector<event_draft>& drafts;
    ~drafts_clearer() { drafts.clear(); }
};

// A span's identity in a request: views into its trace and span ids.
struct span_key {
    std::string_view trace_id, span_id;
    bool operator==(const span_key&) const = default;
};
struct span_key_hash {
    std::size_t operator()(const span_key& k) const {
        const std::hash<std::string_view> h;
        return h(k.trace_id) * 31 + h(k.span_id);
    }
};

bool is_hex_id(const std::string& id, std::size_t digits) {
    if (id.size() != digits) return false;
    bool nonzero = false;
    for (const char c : id) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        nonzero |= c != '0';
    }
    return nonzero;  // all-zero ids are invalid in OTLP
}

// Unix ms of a span time; `fallback` when the exporter left it 0.
std::int64_t to_ms(std::uint64_t unix_nano, std::int64_t fallback) {
    return unix_nano == 0 ? fallback : static_cast<std::int64_t>(unix_nano / 1'000'000);
}

// `text` cut to at most `limit` bytes without splitting a UTF-8 sequence.
std::string clip_utf8(std::string text, std::size_t limit) {
    if (text.size() <= limit) return text;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
    text.resize(end);
    return text;
}

// The span id's primary event id, "otel-<trace id>-<span id>", with room
// for the role suffixes appended to it.
std::string primary_id(const std::string& trace_id, const std::string& span_id) {
    std::string id;
    id.reserve(5 + trace_id.size() + 1 + span_id.size() + 16);
    id.append("otel-").append(trace_id).append(1, '-').append(span_id);
    return id;
}

// `base` and `suffix` as one new id.
std::string with_suffix(const std::string& base, std::string_view suffix) {
    std::string id;
    id.reserve(base.size() + suffix.size());
    id.append(base).append(suffix);
    return id;
}

// The state of mapping one request.
class mapper {
public:
    mapper(const trace_request& request, std::int64_t now_ms) : request_(request), now_ms_(now_ms) {}
    export_result run();

private:
    // What the mapping of one span needs, worked out once (context_of).
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

    span_context context_of(const span& s, const attribute_map& resource, const std::optional<std::string>& node);
    // One event of the span: its envelope and `payload` (built on sp_).
    event_draft draft(const span_context& c, std::string id, domain::event_type type, std::int64_t ts_ms,
                      const std::optional<std::string>& parent, const std::string& run_id,
                      json::object payload) const;
    void map_span(const span_context& c, std::vector<event_draft>& out) const;
    void add_step(const span_context& c, std::vector<event_draft>& out) const;
    json::object llm_payload(const span_context& c) const;
    json::object tool_payload(const span_context& c) const;
    json::object span_payload(const span_context& c) const;
    void add_tool_result(const span_context& c, std::vector<event_draft>& out) const;
    void add_run_start(const span_context& c, std::string id, const std::string& run_id,
                       const std::optional<std::string>& parent_run, std::vector<event_draft>& out) const;
    void add_run_end(const span_context& c, const std::string& run_id, std::vector<event_draft>& out) const;
    void add_errors(const span_context& c, std::vector<event_draft>& out) const;
    // Maps `s` into result_ or rejects it; `i` is its index in the request.
    void map_or_reject(std::size_t i, const span& s, const attribute_map& resource,
                       const std::optional<std::string>& node);
    // Why `s` cannot be mapped, or null when it can.
    const char* fault_of(const span& s) const;
    void reject(std::size_t index, const span& s, const std::string& why);
    const std::string& run_of(const span& s);

    const trace_request& request_;
    std::int64_t now_ms_;
    std::unordered_map<std::string, std::string> conversation_runs_;  // trace id -> conversation id
    // The run of the last trace seen: the spans of a request mostly share
    // one trace, whose run id is then made once.
    std::string last_trace_, last_trace_run_;
    // The memory of the JSON built for the span being mapped: an arena
    // emptied after each span (its events keep only std::string copies), as
    // most of the mapping's time went to allocating and freeing small nodes.
    json::storage_ptr sp_;
    std::vector<event_draft> drafts_;  // one span's events; kept for its capacity, emptied after each span
    std::vector<domain::violation> violations_;
    export_result result_;
    std::size_t messages_ = 0;
};

const std::string& mapper::run_of(const span& s) {
    if (const auto it = conversation_runs_.find(s.trace_id); it != conversation_runs_.end()) return it->second;
    if (last_trace_run_.empty() || last_trace_ != s.trace_id) {
        last_trace_ = s.trace_id;
        last_trace_run_ = trace_run_id(s.trace_id);
    }
    return last_trace_run_;
}

mapper::span_context mapper::context_of(const span& s, const attribute_map& resource,
                                        const std::optional<std::string>& node) {
    span_context c{s, resource, node, run_of(s), primary_id(s.trace_id, s.span_id), std::nullopt};
    c.start_ms = to_ms(s.start_time_unix_nano, now_ms_);
    c.end_ms = s.end_time_unix_nano == 0 ? c.start_ms : to_ms(s.end_time_unix_nano, now_ms_);
    c.duration_ms = c.end_ms > c.start_ms ? c.end_ms - c.start_ms : 0;
    c.root = s.parent_span_id.empty();
    if (!c.root) c.parent = primary_id(s.trace_id, s.parent_span_id);
    c.role = classify(s);
    c.failed = s.status == static_cast<int>(status_code::error);
    for (const auto& ev : s.events) c.has_exception |= ev.name == "exception";
    return c;
}

event_draft mapper::draft(const span_context& c, std::string id, domain::event_type type, std::int64_t ts_ms,
                          const std::optional<std::string>& parent, const std::string& run_id,
                          json::object payload) const {
    // Constructed, not assigned: the payload keeps its arena (an assigned
    // json::value would copy it to the heap).
    return event_draft{std::move(id), run_id, type, ts_ms, c.node, parent, json::value(std::move(payload))};
}

void mapper::add_run_start(const span_context& c, std::string id, const std::string& run_id,
                           const std::optional<std::string>& parent_run, std::vector<event_draft>& out) const {
    const auto& a = c.s.attributes;
    json::object payload(payload_fields, sp_);
    payload["name"] = text_attribute(a, {"gen_ai.agent.name"}).value_or(c.s.name.empty() ? "trace" : c.s.name);
    payload["agent"] = text_attribute(a, {"gen_ai.agent.name", "gen_ai.agent.id"})
                           .value_or(text_attribute(c.resource, {"service.name"}).value_or("unknown"));
    if (parent_run) payload["parent_run_id"] = *parent_run;
    json::object metadata(payload_fields, sp_);
    metadata["otel.trace_id"] = c.s.trace_id;
    metadata["otel.span_id"] = c.s.span_id;
    if (auto conversation = text_attribute(a, {"gen_ai.conversation.id"}))
        metadata["gen_ai.conversation.id"] = *conversation;
    if (auto service = text_attribute(c.resource, {"service.name"})) metadata["service.name"] = *service;
    payload["metadata"] = std::move(metadata);
    out.push_back(draft(c, std::move(id), domain::event_type::run_started, c.start_ms, std::nullopt, run_id,
                        std::move(payload)));
}

void mapper::add_run_end(const span_context& c, const std::string& run_id, std::vector<event_draft>& out) const {
    json::object payload(payload_fields, sp_);
    payload["status"] = c.failed ? "failed" : "succeeded";
    if (!c.s.status_message.empty()) payload["summary"] = c.s.status_message;
    out.push_back(draft(c, with_suffix(c.primary, "-end"), domain::event_type::run_finished, c.end_ms, std::nullopt,
                        run_id, std::move(payload)));
}

void mapper::add_errors(const span_context& c, std::vector<event_draft>& out) const {
    std::size_t exceptions = 0;
    for (const auto& ev : c.s.events) {
        if (ev.name != "exception") continue;
        json::object payload(payload_fields, sp_);
        payload["kind"] = text_attribute(ev.attributes, {"exception.type"}).value_or("exception");
        payload["message"] = text_attribute(ev.attributes, {"exception.message"})
                                 .value_or(c.s.status_message.empty() ? "exception" : c.s.status_message);
        if (auto stack = text_attribute(ev.attributes, {"exception.stacktrace"})) payload["stack"] = *stack;
        out.push_back(draft(c, with_suffix(c.primary, "-exception-" + std::to_string(exceptions++)),
                            domain::event_type::error, to_ms(ev.time_unix_nano, c.end_ms), c.primary, c.run_id,
                            std::move(payload)));
    }
    if (exceptions > 0 || !c.failed) return;
    json::object payload(payload_fields, sp_);
    payload["kind"] = text_attribute(c.s.attributes, {"error.type"}).value_or("span_error");
    payload["message"] = c.s.status_message.empty() ? "span " + c.s.name + " ended with status ERROR"
                                                    : c.s.status_message;
    out.push_back(draft(c, with_suffix(c.primary, "-error"), domain::event_type::error, c.end_ms, c.primary,
                        c.run_id, std::move(payload)));
}

json::object mapper::llm_payload(const span_context& c) const {
    const auto& a = c.s.attributes;
    json::object payload(payload_fields, sp_);
    payload["model"] =
        text_attribute(a, {"gen_ai.response.model", "gen_ai.request.model", "llm.model_name"}).value_or("unknown");
    if (auto provider = text_attribute(a, {"gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"}))
        payload["provider"] = *provider;
    if (auto n = count_attribute(a, {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                                     "llm.token_count.prompt"}))
        payload["input_tokens"] = *n;
    if (auto n = count_attribute(a, {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                                     "llm.token_count.completion"}))
        payload["output_tokens"] = *n;
    payload["latency_ms"] = c.duration_ms;
    if (auto prompt = prompt_of(c.s, sp_)) payload["prompt"] = std::move(*prompt);
    if (auto completion = completion_of(c.s)) payload["completion"] = *completion;
    return payload;
}

json::object mapper::tool_payload(const span_context& c) const {
    const auto& a = c.s.attributes;
    json::object payload(payload_fields, sp_);
    payload["tool"] = text_attribute(a, {"gen_ai.tool.name", "tool.name"}).value_or(c.s.name);
    payload["call_id"] = text_attribute(a, {"gen_ai.tool.call.id", "tool_call.id"}).value_or(c.s.span_id);
    json::value arguments = json::object(sp_);
    if (auto text = text_attribute(a, {"gen_ai.tool.call.arguments", "tool.parameters", "input.value"})) {
        arguments = json_or_text(*text, sp_);
        if (!arguments.is_object()) arguments = json::object({{"input", std::move(arguments)}}, sp_);
    }
    payload["arguments"] = std::move(arguments);
    return payload;
}

json::object mapper::span_payload(const span_context& c) const {
    json::object payload(payload_fields, sp_);
    payload["name"] = c.s.name.empty() ? "span" : c.s.name;
    payload["kind"] = kind_name(c.s.kind);
    payload["status"] = status_name(c.s.status);
    payload["duration_ms"] = c.duration_ms;
    payload["attributes"] = c.s.attributes;
    return payload;
}

// The span's own step: an llm_call, a tool_call (with its tool_result) or
// a `span`, under its parent span's step.
void mapper::add_step(const span_context& c, std::vector<event_draft>& out) const {
    switch (c.role) {
    case span_role::llm:
        out.push_back(draft(c, c.primary, domain::event_type::llm_call, c.start_ms, c.parent, c.run_id,
                            llm_payload(c)));
        return;
    case span_role::tool:
        out.push_back(draft(c, c.primary, domain::event_type::tool_call, c.start_ms, c.parent, c.run_id,
                            tool_payload(c)));
        add_tool_result(c, out);
        return;
    case span_role::agent:
    case span_role::other:
        out.push_back(
            draft(c, c.primary, domain::event_type::span, c.start_ms, c.parent, c.run_id, span_payload(c)));
        return;
    }
}

void mapper::add_tool_result(const span_context& c, std::vector<event_draft>& out) const {
    json::object result(payload_fields, sp_);
    result["call_id"] = out.back().payload.as_object().at("call_id");
    if (auto text = text_attribute(c.s.attributes, {"gen_ai.tool.call.result", "output.value"}))
        result["output"] = json_or_text(*text, sp_);
    else
        result["output"] = c.s.status_message.empty() ? json::value(nullptr) : json::value(c.s.status_message);
    result["is_error"] = c.failed || c.has_exception;
    result["duration_ms"] = c.duration_ms;
    out.push_back(draft(c, with_suffix(c.primary, "-result"), domain::event_type::tool_result, c.end_ms, c.primary,
                        c.run_id, std::move(result)));
}

void mapper::map_span(const span_context& c, std::vector<event_draft>& out) const {
    if (c.role == span_role::agent && c.root) {  // the run itself: its start is the span's step
        add_run_start(c, c.primary, c.run_id, std::nullopt, out);
        add_errors(c, out);
        add_run_end(c, c.run_id, out);
        return;
    }
    if (c.root) add_run_start(c, with_suffix(c.primary, "-run"), c.run_id, std::nullopt, out);
    add_step(c, out);
    add_errors(c, out);
    if (c.role == span_role::agent) {  // nested: a child run of the trace's run
        add_run_start(c, with_suffix(c.primary, "-run"), c.primary, c.run_id, out);
        add_run_end(c, c.primary, out);
    } else if (c.root) {
        add_run_end(c, c.run_id, out);
    }
}

void mapper::reject(std::size_t index, const span& s, const std::string& why) {
    ++result_.rejected_spans;
    if (messages_ == max_messages) {
        result_.error_message += "; ...";
        ++messages_;
    }
    if (messages_ > max_messages) return;
    if (!result_.error_message.empty()) result_.error_message += "; ";
    result_.error_message += "span " + std::to_string(index);
    if (!s.span_id.empty() && s.span_id.size() <= 32) result_.error_message += " (" + s.span_id + ")";
    result_.error_message += ": " + why;
    ++messages_;
}

const char* mapper::fault_of(const span& s) const {
    if (!is_hex_id(s.trace_id, 32)) return "trace id is not 32 hex digits (16 bytes, not all zero)";
    if (!is_hex_id(s.span_id, 16)) return "span id is not 16 hex digits (8 bytes, not all zero)";
    if (!s.parent_span_id.empty() && !is_hex_id(s.parent_span_id, 16)) return "parent span id is not 16 hex digits";
    return nullptr;
}

void mapper::map_or_reject(std::size_t i, const span& s, const attribute_map& resource,
                           const std::optional<std::string>& node) {
    if (to_ms(s.start_time_unix_nano, 0) >= domain::rfc3339_ms_limit ||
        to_ms(s.end_time_unix_nano, 0) >= domain::rfc3339_ms_limit) {
        reject(i, s, "time past the year 9999");
        return;
    }
    alignas(std::max_align_t) unsigned char arena_buffer[16384];
    json::monotonic_resource arena(arena_buffer, sizeof arena_buffer);
    sp_ = json::storage_ptr(&arena);
    const drafts_clearer clear_drafts{drafts_};  // after the arena: runs before it goes, on every path
    map_span(context_of(s, resource, node), drafts_);
    // The span's events go straight to the result and are taken back if one
    // of them is invalid: no second move of each event.
    const std::size_t first = result_.events.size();
    violations_.clear();
    for (auto& d : drafts_) {
        if (auto ev = finish_event(d, now_ms_, violations_)) result_.events.push_back(std::move(*ev));
        if (!violations_.empty()) break;
    }
    sp_ = {};
    if (!violations_.empty()) {
        result_.events.resize(first);
        reject(i, s, violations_.front().path + " " + violations_.front().message);
        return;
    }
    ++result_.accepted_spans;
}

export_result mapper::run() {
    for (const auto& group : request_.resources)
        for (const auto& s : group.spans)
            if (auto conversation = text_attribute(s.attributes, {"gen_ai.conversation.id"});
                conversation && domain::is_valid_id(*conversation))
                conversation_runs_.emplace(s.trace_id, *conversation);

    // Most spans give one or two events; reserving for that avoids moving
    // hundreds of events at each growth.
    result_.events.reserve(request_.span_count * 3 / 2 + 4);
    // The spans mapped, by trace id and span id (views into the request).
    std::unordered_set<span_key, span_key_hash> seen;
    seen.reserve(request_.span_count);
    std::size_t index = 0;
    for (const auto& group : request_.resources) {
        // The events' node: the same for every span of the resource.
        std::optional<std::string> node = text_attribute(group.resource, {"service.instance.id", "service.name"});
        if (node) node = clip_utf8(std::move(*node), domain::max_node_length);
        for (const auto& s : group.spans) {
            const std::size_t i = index++;
            if (const char* fault = fault_of(s)) {
                reject(i, s, fault);
                continue;
            }
            if (!seen.insert(span_key{s.trace_id, s.span_id}).second) continue;
            map_or_reject(i, s, group.resource, node);
        }
    }
    return std::move(result_);
}

}  // namespace

std::string trace_run_id(const std::string& trace_id) { return "otel-" + trace_id; }

export_result map_spans(const trace_request& request, std::int64_t now_ms) { return mapper(request, now_ms).run(); }

}  // namespace obs::otlp
