// The mapping of decoded OTLP spans onto the event model (the table in
// docs/otlp.md): a trace is a run, agent spans open and close runs, LLM and
// tool spans become llm_call and tool_call/tool_result steps, failures error
// steps, and every other span a `span` event. Each event passes the same
// validation as one a client posts and is stored as domain::decode_event
// would make it (event_finish.hpp, which does that without decoding the
// envelope again).
#pragma once

#include "domain/event.hpp"
#include "server/otlp/trace_data.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obs::otlp {

// What a request becomes: the events to store (in span order, each span's
// events together) and the spans that could not be mapped.
struct export_result {
    std::vector<domain::event> events;
    std::size_t accepted_spans = 0;
    std::int64_t rejected_spans = 0;  // partial_success.rejected_spans
    std::string error_message;        // partial_success.error_message; empty when none was rejected
};

// Maps every span of `request`. `now_ms` is the receive time (events'
// received_ms, and `ts` for a span without times). A span whose ids are not
// valid hex or whose events break a payload rule is rejected whole (counted,
// with a message naming it); the others go on. A span given twice in the
// request is mapped once. Deterministic: the same request always gives the
// same event ids and bodies, so a retried export stores nothing twice.
export_result map_spans(const trace_request& request, std::int64_t now_ms);

// The run a trace maps to when no span carries gen_ai.conversation.id:
// "otel-" and the 32 hex digits of the trace id.
std::string trace_run_id(std::string_view trace_id);

}  // namespace obs::otlp
