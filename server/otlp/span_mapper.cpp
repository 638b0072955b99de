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
#include "server/otlp/span_steps.hpp"

#include <boost/json/array.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <unordered_map>

namespace obs::otlp {

namespace json = boost::json;

namespace {

constexpr std::size_t max_messages = 3;  // rejected spans named in error_message

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
struct text_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
// The span id alone: random 8 bytes, and the spans of a request mostly
// share their trace id, which would only cost hashing 32 more digits.
struct span_key_hash {
    std::size_t operator()(const span_key& k) const { return std::hash<std::string_view>{}(k.span_id); }
};

bool is_hex_id(const id_text& id, std::size_t digits) {
    if (id.size() != digits) return false;
    bool nonzero = false;
    for (const char c : id.view()) {
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
std::string primary_id(std::string_view trace_id, std::string_view span_id) {
    std::string id;
    id.reserve(5 + trace_id.size() + 1 + span_id.size() + 16);
    id.append("otel-").append(trace_id).append(1, '-').append(span_id);
    return id;
}

// The state of mapping one request.
class mapper {
public:
    mapper(const trace_request& request, std::int64_t now_ms) : request_(request), now_ms_(now_ms) {}
    export_result run();

private:
    span_context context_of(const span& s, const attribute_map& resource, const std::optional<std::string>& node);
    // Maps `s` into result_ or rejects it; `i` is its index in the request.
    void map_or_reject(std::size_t i, const span& s, const attribute_map& resource,
                       const std::optional<std::string>& node);
    // Why `s` cannot be mapped, or null when it can.
    const char* fault_of(const span& s) const;
    void reject(std::size_t index, const span& s, const std::string& why);
    const std::string& run_of(const span& s);

    const trace_request& request_;
    std::int64_t now_ms_;
    // trace id -> conversation id; looked up by the span's id_text without a copy
    std::unordered_map<std::string, std::string, text_hash, std::equal_to<>> conversation_runs_;
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
    if (const auto it = conversation_runs_.find(s.trace_id.view()); it != conversation_runs_.end()) return it->second;
    if (last_trace_run_.empty() || last_trace_ != s.trace_id.view()) {
        last_trace_ = s.trace_id.view();
        last_trace_run_ = trace_run_id(s.trace_id);
    }
    return last_trace_run_;
}

span_context mapper::context_of(const span& s, const attribute_map& resource,
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

void mapper::reject(std::size_t index, const span& s, const std::string& why) {
    ++result_.rejected_spans;
    if (messages_ == max_messages) {
        result_.error_message += "; ...";
        ++messages_;
    }
    if (messages_ > max_messages) return;
    if (!result_.error_message.empty()) result_.error_message += "; ";
    result_.error_message += "span " + std::to_string(index);
    if (!s.span_id.empty() && s.span_id.size() <= 32)
        result_.error_message.append(" (").append(s.span_id.view()).append(")");
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
    span_steps(sp_).add_all(context_of(s, resource, node), drafts_);
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
                conversation_runs_.emplace(s.trace_id.view(), std::string(*conversation));

    // Most spans give one or two events; reserving for that avoids moving
    // hundreds of events at each growth.
    result_.events.reserve(request_.span_count * 3 / 2 + 4);
    // The spans mapped, by trace id and span id (views into the request).
    // Open addressing: no allocation per span, as a node-based set made.
    boost::unordered_flat_set<span_key, span_key_hash> seen;
    seen.reserve(request_.span_count);
    std::size_t index = 0;
    for (const auto& group : request_.resources) {
        // The events' node: the same for every span of the resource.
        std::optional<std::string> node;
        if (auto text = text_attribute(group.resource, {"service.instance.id", "service.name"}))
            node = clip_utf8(std::string(*text), domain::max_node_length);
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

std::string trace_run_id(std::string_view trace_id) { return std::string("otel-").append(trace_id); }

export_result map_spans(const trace_request& request, std::int64_t now_ms) { return mapper(request, now_ms).run(); }

}  // namespace obs::otlp
