// The event model of the HTTP contract (design/API.md, "The model"): the
// nine client event types plus the server-written `artifact`, the validated
// incoming event, and the stored event as read routes and the stream return
// it. Pure data: no I/O, no Asio, no SQLite.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obs::domain {

enum class event_type {
    run_started,
    run_finished,
    thought,
    tool_call,
    tool_result,
    llm_call,
    error,
    log,
    artifact,  // written by the server only; clients posting it get 422
    span,      // an OpenTelemetry span that is no agent operation (OTLP ingest)
};

inline constexpr int event_type_count = 10;

// The wire name of a type ("tool_call").
std::string_view to_string(event_type type);

// The type named `name`, or nullopt for an unknown name (case-sensitive).
std::optional<event_type> parse_event_type(std::string_view name);

// What an event changes in its run's row, extracted during validation so the
// writer never re-parses payloads. Fields not set by the type stay empty.
struct run_facts {
    std::optional<std::string> name;           // run_started
    std::optional<std::string> agent;          // run_started
    std::optional<std::string> parent_run_id;  // run_started
    std::optional<std::string> tags_json;      // run_started: JSON array text
    std::optional<std::string> metadata_json;  // run_started: JSON object text
    std::optional<std::string> final_status;   // run_finished: succeeded|failed|cancelled
    std::int64_t input_tokens = 0;             // llm_call
    std::int64_t output_tokens = 0;            // llm_call
    double cost_usd = 0;                       // llm_call
};

// A validated incoming event, ready for the writer. Every field has passed
// the rules of API.md; `payload_json` is the payload re-serialized compactly.
struct event {
    std::string id;                        // the client's id, or a fresh UUIDv7
    bool id_given = false;                 // true when the client sent `id`
    std::string run_id;                    // 1-128 chars of [A-Za-z0-9._:-]
    event_type type = event_type::log;     //
    std::int64_t ts_ms = 0;                // client's `ts`, else receive time (Unix ms)
    bool ts_given = false;                 // true when the client sent `ts`
    std::int64_t received_ms = 0;          // server receive time (Unix ms)
    std::optional<std::string> node;       // <= 128 bytes
    std::optional<std::string> parent_id;  // an id
    std::string payload_json;              // compact JSON object text
    run_facts facts;                       // what it changes in the run's row
};

// An event as stored: what read routes and the stream return.
struct stored_event {
    std::int64_t offset = 0;  // global, gap-free, increasing
    std::string id;
    std::string run_id;
    std::int64_t seq = 0;     // per run: 1, 2, 3, ...
    event_type type = event_type::log;
    std::int64_t ts_ms = 0;
    std::int64_t received_ms = 0;
    std::optional<std::string> node;
    std::optional<std::string> parent_id;
    std::string payload_json;  // compact JSON object text, inserted verbatim
};

// The stored event as one line of JSON, keys in the order of API.md:
// {"offset":..,"id":..,"run_id":..,"seq":..,"type":..,"ts":..,"received_at":..,
//  "node":..|null,"parent_id":..|null,"payload":{..}}
std::string encode_stored_event(const stored_event& ev);

// Appends `s` to `out` as a JSON string literal: quote, backslash and
// U+0000-U+001F escaped, every other byte copied. REQUIRES: `s` is valid
// UTF-8 (the encoder does not check it).
void append_json_string(std::string& out, std::string_view s);

// append_json_string without the quotes: `s` may be a piece of a string
// (each byte is escaped on its own, so pieces escape as the whole would).
// The escapes are Boost.JSON's serializer's, byte for byte.
void append_json_escaped(std::string& out, std::string_view s);

// Appends `s` as append_json_string does, or `null` when it is absent: the
// encoding of every optional text field of the API's objects.
void append_json_string_or_null(std::string& out, const std::optional<std::string>& s);

// True when `s` is a valid identifier: 1-128 chars of [A-Za-z0-9._:-].
bool is_valid_id(std::string_view s);

}  // namespace obs::domain
