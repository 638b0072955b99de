// What span attributes mean: the OpenTelemetry gen_ai.* semantic
// conventions (gen_ai.operation.name, gen_ai.usage.*, gen_ai.tool.*, ...)
// and OpenInference's (openinference.span.kind, llm.*, tool.*, input.value,
// output.value). span_mapper asks these functions, so every attribute name
// the mapping reads is listed here and in docs/otlp.md.
#pragma once

#include "server/otlp/trace_data.hpp"

#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace obs::otlp {

// What a span is, for the mapping.
enum class span_role {
    agent,  // gen_ai.operation.name invoke_agent, OpenInference AGENT
    llm,    // chat, text_completion, generate_content, embeddings; OpenInference LLM, EMBEDDING
    tool,   // execute_tool; OpenInference TOOL
    other,  // anything else (OpenInference CHAIN, RETRIEVER, ..., plain HTTP or DB spans)
};

span_role classify(const span& s);

// The first of `keys` present in `attributes` as a non-empty string (a
// number or boolean is written as text), on `sp`: the mapper passes its
// arena, so the text is copied once, into the payload's own memory.
std::optional<boost::json::string> text_attribute(const attribute_map& attributes,
                                                  std::initializer_list<std::string_view> keys,
                                                  boost::json::storage_ptr sp = {});

// The first of `keys` that holds an integer >= 0 (a number, or a decimal string).
std::optional<std::int64_t> count_attribute(const attribute_map& attributes,
                                            std::initializer_list<std::string_view> keys);

// `text` parsed as JSON when it is JSON (the conventions carry messages,
// arguments and results as JSON text), else the text itself as a string.
// The value's memory comes from `sp` (the mapper passes its arena).
boost::json::value json_or_text(std::string_view text, boost::json::storage_ptr sp = {});

// The model's input of an llm span, as the llm_call `prompt` (a string or an
// array of messages), from gen_ai.input.messages, gen_ai.prompt,
// gen_ai.prompt.N.{role,content} (OpenLLMetry), input.value or the span's
// gen_ai.{system,user,assistant,tool}.message events. Built on `sp`.
std::optional<boost::json::value> prompt_of(const span& s, boost::json::storage_ptr sp = {});

// The model's output of an llm span as text, from gen_ai.output.messages,
// gen_ai.completion, gen_ai.completion.0.content, output.value or a
// gen_ai.choice event. Built on `sp`.
std::optional<boost::json::string> completion_of(const span& s, boost::json::storage_ptr sp = {});

// Lower-case name of a Span.SpanKind number ("client"); "unspecified" for
// numbers outside the enum.
std::string_view kind_name(int kind);

// The status as the `span` event writes it: unset, ok or error.
std::string_view status_name(int status);

}  // namespace obs::otlp
