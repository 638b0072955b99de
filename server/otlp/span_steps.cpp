// The events of one span (see span_steps.hpp).
#include "server/otlp/span_steps.hpp"

#include <boost/json/array.hpp>

namespace obs::otlp {

namespace json = boost::json;

namespace {

// Room for every field of a payload (at most 8 per type) and of the run's
// metadata (4): objects built once, without a rehash as they fill.
constexpr std::size_t payload_fields = 8;

// `base` and `suffix` as one new id.
std::string with_suffix(const std::string& base, std::string_view suffix) {
    std::string id;
    id.reserve(base.size() + suffix.size());
    id.append(base).append(suffix);
    return id;
}

// Unix ms of a span event's time; `fallback` when the exporter left it 0.
std::int64_t event_ms(std::uint64_t unix_nano, std::int64_t fallback) {
    return unix_nano == 0 ? fallback : static_cast<std::int64_t>(unix_nano / 1'000'000);
}

}  // namespace

event_draft span_steps::draft(const span_context& c, std::string id, domain::event_type type, std::int64_t ts_ms,
                          const std::optional<std::string>& parent, const std::string& run_id,
                          json::object payload) const {
    // Constructed, not assigned: the payload keeps its arena (an assigned
    // json::value would copy it to the heap).
    // Every id comes from span_mapper's checked span ids (see ids_checked).
    return event_draft{std::move(id), run_id, type, ts_ms, c.node, parent, json::value(std::move(payload)), true};
}

json::value span_steps::text_or(const attribute_map& attributes, std::initializer_list<std::string_view> keys,
                                std::string_view fallback) const {
    if (auto text = text_attribute(attributes, keys, sp_)) return json::value(std::move(*text));
    return json::value(json::string(fallback, sp_));
}

void span_steps::add_run_start(const span_context& c, std::string id, const std::string& run_id,
                           const std::optional<std::string>& parent_run, std::vector<event_draft>& out) const {
    const auto& a = c.s.attributes;
    json::object payload(payload_fields, sp_);
    payload["name"] = text_or(a, {"gen_ai.agent.name"}, c.s.name.empty() ? std::string_view("trace") : c.s.name);
    if (auto agent = text_attribute(a, {"gen_ai.agent.name", "gen_ai.agent.id"}, sp_))
        payload["agent"] = std::move(*agent);
    else
        payload["agent"] = text_or(c.resource, {"service.name"}, "unknown");
    if (parent_run) payload["parent_run_id"] = *parent_run;
    json::object metadata(payload_fields, sp_);
    metadata["otel.trace_id"] = c.s.trace_id.view();
    metadata["otel.span_id"] = c.s.span_id.view();
    if (auto conversation = text_attribute(a, {"gen_ai.conversation.id"}, sp_))
        metadata["gen_ai.conversation.id"] = std::move(*conversation);
    if (auto service = text_attribute(c.resource, {"service.name"}, sp_))
        metadata["service.name"] = std::move(*service);
    payload["metadata"] = std::move(metadata);
    out.push_back(draft(c, std::move(id), domain::event_type::run_started, c.start_ms, std::nullopt, run_id,
                        std::move(payload)));
}

void span_steps::add_run_end(const span_context& c, const std::string& run_id, std::vector<event_draft>& out) const {
    json::object payload(payload_fields, sp_);
    payload["status"] = c.failed ? "failed" : "succeeded";
    if (!c.s.status_message.empty()) payload["summary"] = c.s.status_message;
    out.push_back(draft(c, with_suffix(c.primary, "-end"), domain::event_type::run_finished, c.end_ms, std::nullopt,
                        run_id, std::move(payload)));
}

void span_steps::add_errors(const span_context& c, std::vector<event_draft>& out) const {
    std::size_t exceptions = 0;
    for (const auto& ev : c.s.events) {
        if (ev.name != "exception") continue;
        json::object payload(payload_fields, sp_);
        payload["kind"] = text_or(ev.attributes, {"exception.type"}, "exception");
        const std::string_view fallback =
            c.s.status_message.empty() ? std::string_view("exception") : std::string_view(c.s.status_message);
        payload["message"] = text_or(ev.attributes, {"exception.message"}, fallback);
        if (auto stack = text_attribute(ev.attributes, {"exception.stacktrace"}, sp_))
            payload["stack"] = std::move(*stack);
        out.push_back(draft(c, with_suffix(c.primary, "-exception-" + std::to_string(exceptions++)),
                            domain::event_type::error, event_ms(ev.time_unix_nano, c.end_ms), c.primary, c.run_id,
                            std::move(payload)));
    }
    if (exceptions > 0 || !c.failed) return;
    json::object payload(payload_fields, sp_);
    payload["kind"] = text_or(c.s.attributes, {"error.type"}, "span_error");
    payload["message"] = c.s.status_message.empty() ? "span " + c.s.name + " ended with status ERROR"
                                                    : c.s.status_message;
    out.push_back(draft(c, with_suffix(c.primary, "-error"), domain::event_type::error, c.end_ms, c.primary,
                        c.run_id, std::move(payload)));
}

json::object span_steps::llm_payload(const span_context& c) const {
    const auto& a = c.s.attributes;
    json::object payload(payload_fields, sp_);
    payload["model"] = text_or(a, {"gen_ai.response.model", "gen_ai.request.model", "llm.model_name"}, "unknown");
    if (auto provider =
            text_attribute(a, {"gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"}, sp_))
        payload["provider"] = std::move(*provider);
    if (auto n = count_attribute(a, {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens",
                                     "llm.token_count.prompt"}))
        payload["input_tokens"] = *n;
    if (auto n = count_attribute(a, {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                                     "llm.token_count.completion"}))
        payload["output_tokens"] = *n;
    payload["latency_ms"] = c.duration_ms;
    if (auto prompt = prompt_of(c.s, sp_)) payload["prompt"] = std::move(*prompt);
    if (auto completion = completion_of(c.s, sp_)) payload["completion"] = std::move(*completion);
    return payload;
}

json::object span_steps::tool_payload(const span_context& c) const {
    const auto& a = c.s.attributes;
    json::object payload(payload_fields, sp_);
    payload["tool"] = text_or(a, {"gen_ai.tool.name", "tool.name"}, c.s.name);
    payload["call_id"] = text_or(a, {"gen_ai.tool.call.id", "tool_call.id"}, c.s.span_id.view());
    json::value arguments = json::object(sp_);
    if (auto text = text_attribute(a, {"gen_ai.tool.call.arguments", "tool.parameters", "input.value"}, sp_)) {
        arguments = json_or_text(*text, sp_);
        if (!arguments.is_object()) arguments = json::object({{"input", std::move(arguments)}}, sp_);
    }
    payload["arguments"] = std::move(arguments);
    return payload;
}

json::object span_steps::span_payload(const span_context& c) const {
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
void span_steps::add_step(const span_context& c, std::vector<event_draft>& out) const {
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

void span_steps::add_tool_result(const span_context& c, std::vector<event_draft>& out) const {
    json::object result(payload_fields, sp_);
    result["call_id"] = out.back().payload.as_object().at("call_id");
    if (auto text = text_attribute(c.s.attributes, {"gen_ai.tool.call.result", "output.value"}, sp_))
        result["output"] = json_or_text(*text, sp_);
    else
        result["output"] = c.s.status_message.empty() ? json::value(nullptr) : json::value(c.s.status_message);
    result["is_error"] = c.failed || c.has_exception;
    result["duration_ms"] = c.duration_ms;
    out.push_back(draft(c, with_suffix(c.primary, "-result"), domain::event_type::tool_result, c.end_ms, c.primary,
                        c.run_id, std::move(result)));
}

void span_steps::add_all(const span_context& c, std::vector<event_draft>& out) const {
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

}  // namespace obs::otlp
