// The semantic conventions the mapping reads (see conventions.hpp). Names
// are from the OpenTelemetry GenAI semantic conventions (including the older
// gen_ai.system, gen_ai.usage.prompt_tokens and gen_ai.prompt that many
// instrumentations still send) and from the OpenInference specification.
#include "server/otlp/conventions.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <cmath>

namespace obs::otlp {

namespace json = boost::json;

namespace {

bool one_of(std::string_view value, std::initializer_list<std::string_view> names) {
    for (const auto n : names)
        if (value == n) return true;
    return false;
}

const json::string* string_attribute(const attribute_map& a, std::string_view key) {
    const auto* v = a.if_contains(key);
    return v != nullptr ? v->if_string() : nullptr;
}

}  // namespace

span_role classify(const span& s) {
    if (const auto* op = string_attribute(s.attributes, "gen_ai.operation.name")) {
        if (*op == "invoke_agent") return span_role::agent;
        if (one_of(*op, {"chat", "text_completion", "generate_content", "embeddings"})) return span_role::llm;
        if (*op == "execute_tool") return span_role::tool;
    }
    if (const auto* kind = string_attribute(s.attributes, "openinference.span.kind")) {
        if (*kind == "AGENT") return span_role::agent;
        if (*kind == "LLM" || *kind == "EMBEDDING") return span_role::llm;
        if (*kind == "TOOL") return span_role::tool;
    }
    return span_role::other;
}

std::optional<json::string> text_attribute(const attribute_map& a, std::initializer_list<std::string_view> keys,
                                           json::storage_ptr sp) {
    for (const auto key : keys) {
        const auto* v = a.if_contains(key);
        if (v == nullptr) continue;
        if (const auto* s = v->if_string()) {
            if (!s->empty()) return json::string(*s, std::move(sp));
        } else if (v->is_number() || v->is_bool()) {
            return json::string(json::serialize(*v), std::move(sp));
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> count_attribute(const attribute_map& a, std::initializer_list<std::string_view> keys) {
    for (const auto key : keys) {
        const auto* v = a.if_contains(key);
        if (v == nullptr) continue;
        if (const auto* i = v->if_int64()) {
            if (*i >= 0) return *i;
        } else if (const auto* d = v->if_double()) {
            if (*d >= 0 && *d < 9.2e18 && std::floor(*d) == *d) return static_cast<std::int64_t>(*d);
        } else if (const auto* s = v->if_string()) {
            std::int64_t n = 0;
            const auto r = std::from_chars(s->data(), s->data() + s->size(), n);
            if (!s->empty() && r.ec == std::errc() && r.ptr == s->data() + s->size() && n >= 0) return n;
        }
    }
    return std::nullopt;
}

json::value json_or_text(std::string_view text, json::storage_ptr sp) {
    // One parser per thread, reset for each text: json::parse sets up a new
    // parser each time, which for the short texts of a span (arguments,
    // messages) cost as much as the parsing itself. Its options are the
    // defaults, as json::parse's: a depth limit of 32 bounds it.
    thread_local json::parser parser;
    parser.reset(sp);
    json::error_code ec;
    parser.write(text.data(), text.size(), ec);
    if (!ec) return parser.release();
    // The partial value lives on `sp`, which may be gone by the next call:
    // dropped now, while it is alive.
    parser.reset();
    return json::value(json::string(text, std::move(sp)));
}

std::optional<json::value> prompt_of(const span& s, json::storage_ptr sp) {
    const auto& a = s.attributes;
    if (auto messages = text_attribute(a, {"gen_ai.input.messages"}, sp)) {
        json::value v = json_or_text(*messages, sp);
        if (v.is_array() || v.is_string()) return v;
        return json::value(std::move(*messages));
    }
    if (auto text = text_attribute(a, {"gen_ai.prompt", "input.value"}, sp)) return json::value(std::move(*text));
    // OpenLLMetry flattens messages: gen_ai.prompt.0.role, gen_ai.prompt.0.content, ...
    json::array flattened(sp);
    for (std::size_t i = 0; i < max_attributes_per_list; ++i) {
        const std::string prefix = "gen_ai.prompt." + std::to_string(i) + ".";
        auto content = text_attribute(a, {prefix + "content"}, sp);
        if (!content) break;
        json::object message(sp);
        if (auto role = text_attribute(a, {prefix + "role"}, sp)) message["role"] = std::move(*role);
        message["content"] = std::move(*content);
        flattened.push_back(std::move(message));
    }
    if (!flattened.empty()) return json::value(std::move(flattened));
    // Older instrumentations send each message as an event.
    json::array from_events(sp);
    for (const auto& e : s.events) {
        if (!one_of(e.name, {"gen_ai.system.message", "gen_ai.user.message", "gen_ai.assistant.message",
                             "gen_ai.tool.message"}))
            continue;
        json::object message(sp);
        const auto role = e.name.substr(7, e.name.size() - 7 - 8);  // between "gen_ai." and ".message"
        message["role"] = role;
        if (const auto* content = e.attributes.if_contains("content")) message["content"] = *content;
        from_events.push_back(std::move(message));
    }
    if (!from_events.empty()) return json::value(std::move(from_events));
    return std::nullopt;
}

std::optional<json::string> completion_of(const span& s, json::storage_ptr sp) {
    if (auto text = text_attribute(s.attributes, {"gen_ai.output.messages", "gen_ai.completion",
                                                  "gen_ai.completion.0.content", "output.value"}, sp))
        return text;
    for (const auto& e : s.events) {
        if (e.name != "gen_ai.choice") continue;
        if (auto text = text_attribute(e.attributes, {"content"}, sp)) return text;
        if (const auto* message = e.attributes.if_contains("message"))
            return json::string(json::serialize(*message), sp);
    }
    return std::nullopt;
}

std::string_view kind_name(int kind) {
    static constexpr std::array<std::string_view, 6> names = {"unspecified", "internal", "server",
                                                              "client",      "producer", "consumer"};
    return kind >= 0 && kind < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(kind)]
                                                              : names[0];
}

std::string_view status_name(int status) {
    switch (status) {
    case static_cast<int>(status_code::ok): return "ok";
    case static_cast<int>(status_code::error): return "error";
    default: return "unset";
    }
}

}  // namespace obs::otlp
