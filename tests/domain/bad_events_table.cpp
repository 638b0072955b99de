// The bad-event table (see bad_events_table.hpp).
#include "bad_events_table.hpp"

#include "body_builders.hpp"

namespace obs::domain::test {

std::vector<bad_case> bad_cases() {
    const std::string id_rule = "1 to 128 characters";
    const std::string too_long = "at most 1048576 bytes";
    const std::string not_string = "must be a string";
    const std::string required = "required";
    const std::string unknown = "unknown field";
    const std::string deep = "nested deeper than 64 levels";
    auto payload = [](const std::string& type, const std::string& p) { return one(event_with(type, p)); };
    auto envelope = [](const std::string& fields) {
        return one(R"({"run_id":"r1","type":"thought","payload":{"text":"t"})" + fields + "}");
    };
    std::vector<std::string> thousand_and_one(1001, good_thought);
    return {
        // --- envelope
        {one(R"({"type":"thought","payload":{"text":"t"}})"), 0, "run_id", required},
        {one(R"({"run_id":17,"type":"thought","payload":{"text":"t"}})"), 0, "run_id", not_string},
        {one(R"({"run_id":null,"type":"thought","payload":{"text":"t"}})"), 0, "run_id", not_string},
        {one(R"({"run_id":"","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {one(R"({"run_id":")" + std::string(129, 'r') + R"(","type":"thought","payload":{"text":"t"}})"), 0,
         "run_id", id_rule},
        {one(R"({"run_id":"r 1","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {one(R"({"run_id":"r/1","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {one(R"({"run_id":"r\u00e9","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {envelope(R"(,"id":")" + std::string(129, 'i') + "\""), 0, "id", id_rule},
        {envelope(R"(,"id":"a#b")"), 0, "id", id_rule},
        {envelope(R"(,"id":"")"), 0, "id", id_rule},
        {envelope(R"(,"id":5)"), 0, "id", not_string},
        {envelope(R"(,"id":null)"), 0, "id", not_string},
        {one(R"({"run_id":"r1","payload":{"text":"t"}})"), 0, "type", required},
        {one(R"({"run_id":"r1","type":3,"payload":{"text":"t"}})"), 0, "type", not_string},
        {one(R"({"run_id":"r1","type":"thinking","payload":{"text":"t"}})"), 0, "type", "must be one of"},
        {one(R"({"run_id":"r1","type":"Thought","payload":{"text":"t"}})"), 0, "type", "must be one of"},
        {one(R"({"run_id":"r1","type":"artifact","payload":{"name":"a","sha256":"x","size":1,"content_type":"t"}})"),
         0, "type", "written by the server"},
        {one(R"({"run_id":"r1","type":"thought"})"), 0, "payload", required},
        {one(R"({"run_id":"r1","type":"thought","payload":[]})"), 0, "payload", "must be an object"},
        {one(R"({"run_id":"r1","type":"thought","payload":"t"})"), 0, "payload", "must be an object"},
        {one(R"({"run_id":"r1","type":"thought","payload":null})"), 0, "payload", "must be an object"},
        {envelope(R"(,"ts":"yesterday")"), 0, "ts", "RFC 3339"},
        {envelope(R"(,"ts":1795817045123)"), 0, "ts", not_string},
        {envelope(R"(,"ts":"2026-02-30T00:00:00Z")"), 0, "ts", "RFC 3339"},
        {envelope(R"(,"ts":"2026-11-27T22:04:05")"), 0, "ts", "RFC 3339"},
        {envelope(R"(,"ts":"1969-12-31T23:59:59Z")"), 0, "ts", "between 1970 and 9999"},
        {envelope(R"(,"ts":"9999-12-31T23:59:59-01:00")"), 0, "ts", "between 1970 and 9999"},
        {envelope(R"(,"node":")" + std::string(129, 'n') + "\""), 0, "node", "at most 128 bytes"},
        {envelope(R"(,"node":["w"])"), 0, "node", not_string},
        {envelope(R"(,"parent_id":"p p")"), 0, "parent_id", id_rule},
        {envelope(R"(,"parent_id":")" + std::string(129, 'p') + "\""), 0, "parent_id", id_rule},
        {envelope(R"(,"parent_id":1)"), 0, "parent_id", not_string},
        {envelope(R"(,"extra":1)"), 0, "extra", unknown},
        {envelope(R"(,"offset":1)"), 0, "offset", unknown},
        {envelope(R"(,"Run_id":"r1")"), 0, "Run_id", unknown},
        {one("5"), 0, "", "must be an object"},
        {one("[]"), 0, "", "must be an object"},
        {one("null"), 0, "", "must be an object"},
        // --- run_started
        {payload("run_started", R"({"agent":"a"})"), 0, "payload.name", required},
        {payload("run_started", R"({"name":"n"})"), 0, "payload.agent", required},
        {payload("run_started", R"({"name":1,"agent":"a"})"), 0, "payload.name", not_string},
        {payload("run_started", R"({"name":")" + too_long_text + R"(","agent":"a"})"), 0, "payload.name", too_long},
        {payload("run_started", R"({"name":"n","agent":"a","parent_run_id":"a b"})"), 0, "payload.parent_run_id",
         id_rule},
        {payload("run_started", R"({"name":"n","agent":"a","tags":"t"})"), 0, "payload.tags", "must be an array"},
        {payload("run_started", R"({"name":"n","agent":"a","tags":)" + string_array(33) + "}"), 0, "payload.tags",
         "at most 32"},
        {payload("run_started", R"({"name":"n","agent":"a","tags":["a","b","c",4]})"), 0, "payload.tags[3]",
         not_string},
        {payload("run_started", R"({"name":"n","agent":"a","tags":[")" + too_long_text + R"("]})"), 0,
         "payload.tags[0]", too_long},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":[]})"), 0, "payload.metadata",
         "must be an object"},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":)" + string_map(65) + "}"), 0,
         "payload.metadata", "at most 64 keys"},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":{"team":"x","cost":5}})"), 0,
         "payload.metadata.cost", not_string},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":{"nested":{"a":"b"}}})"), 0,
         "payload.metadata.nested", not_string},
        {payload("run_started", R"({"name":"n","agent":"a","color":"red"})"), 0, "payload.color", unknown},
        // --- run_finished
        {payload("run_finished", R"({"summary":"s"})"), 0, "payload.status", required},
        {payload("run_finished", R"({"status":"done"})"), 0, "payload.status", "succeeded, failed, cancelled"},
        {payload("run_finished", R"({"status":"Succeeded"})"), 0, "payload.status", "must be one of"},
        {payload("run_finished", R"({"status":1})"), 0, "payload.status", not_string},
        {payload("run_finished", R"({"status":"failed","summary":false})"), 0, "payload.summary", not_string},
        // --- thought
        {payload("thought", "{}"), 0, "payload.text", required},
        {payload("thought", R"({"text":")" + too_long_text + "\"}"), 0, "payload.text", too_long},
        {payload("thought", R"({"text":null})"), 0, "payload.text", not_string},
        {payload("thought", R"({"text":"t","tool":"x"})"), 0, "payload.tool", unknown},
        // --- tool_call
        {payload("tool_call", R"({"call_id":"c","arguments":{}})"), 0, "payload.tool", required},
        {payload("tool_call", R"({"tool":"t","arguments":{}})"), 0, "payload.call_id", required},
        {payload("tool_call", R"({"tool":"t","call_id":"c"})"), 0, "payload.arguments", required},
        {payload("tool_call", R"({"tool":"t","call_id":"c","arguments":[]})"), 0, "payload.arguments",
         "must be an object"},
        {payload("tool_call", R"({"tool":"t","call_id":"c","arguments":"q=1"})"), 0, "payload.arguments",
         "must be an object"},
        {payload("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + nested_objects(65) + "}"), 0,
         "payload.arguments", deep},
        {payload("tool_call", R"({"tool":"t","call_id":7,"arguments":{}})"), 0, "payload.call_id", not_string},
        // --- tool_result
        {payload("tool_result", R"({"output":1})"), 0, "payload.call_id", required},
        {payload("tool_result", R"({"call_id":"c"})"), 0, "payload.output", required},
        {payload("tool_result", R"({"call_id":"c","output":1,"is_error":"true"})"), 0, "payload.is_error",
         "must be a boolean"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":-1})"), 0, "payload.duration_ms",
         "must be >= 0"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":1.5})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":1e300})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":2.0})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":9223372036854775808})"), 0,
         "payload.duration_ms", "out of range"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":"5"})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":)" + nested_arrays(65) + "}"), 0, "payload.output", deep},
        // --- llm_call
        {payload("llm_call", R"({"provider":"p"})"), 0, "payload.model", required},
        {payload("llm_call", R"({"model":"m","input_tokens":-5})"), 0, "payload.input_tokens", "must be >= 0"},
        {payload("llm_call", R"({"model":"m","output_tokens":1.5})"), 0, "payload.output_tokens", "integer"},
        {payload("llm_call", R"({"model":"m","latency_ms":18446744073709551615})"), 0, "payload.latency_ms",
         "out of range"},
        {payload("llm_call", R"({"model":"m","input_tokens":99999999999999999999})"), 0, "payload.input_tokens",
         "must be an integer"},
        {payload("llm_call", R"({"model":"m","cost_usd":-0.01})"), 0, "payload.cost_usd", "must be >= 0"},
        {payload("llm_call", R"({"model":"m","cost_usd":-1})"), 0, "payload.cost_usd", "must be >= 0"},
        {payload("llm_call", R"({"model":"m","cost_usd":"0.1"})"), 0, "payload.cost_usd", "must be a number"},
        {payload("llm_call", R"({"model":"m","cost_usd":1e400})"), 0, "payload.cost_usd", "finite"},
        {payload("llm_call", R"({"model":"m","cost_usd":-1e400})"), 0, "payload.cost_usd", "finite"},
        {payload("llm_call", R"({"model":"m","prompt":42})"), 0, "payload.prompt", "string or an array"},
        {payload("llm_call", R"({"model":"m","prompt":{"role":"user"}})"), 0, "payload.prompt",
         "string or an array"},
        {payload("llm_call", R"({"model":"m","prompt":)" + nested_arrays(65) + "}"), 0, "payload.prompt", deep},
        {payload("llm_call", R"({"model":"m","prompt":")" + too_long_text + "\"}"), 0, "payload.prompt", too_long},
        {payload("llm_call", R"({"model":"m","completion":true})"), 0, "payload.completion", not_string},
        {payload("llm_call", R"({"model":"m","provider":1})"), 0, "payload.provider", not_string},
        {payload("llm_call", R"({"model":"m","temperature":0.2})"), 0, "payload.temperature", unknown},
        // --- error
        {payload("error", R"({"message":"m"})"), 0, "payload.kind", required},
        {payload("error", R"({"kind":"k"})"), 0, "payload.message", required},
        {payload("error", R"({"kind":"k","message":"m","fatal":"yes"})"), 0, "payload.fatal", "must be a boolean"},
        {payload("error", R"({"kind":"k","message":"m","fatal":1})"), 0, "payload.fatal", "must be a boolean"},
        {payload("error", R"({"kind":"k","message":"m","stack":["a"]})"), 0, "payload.stack", not_string},
        // --- log
        {payload("log", R"({"message":"m"})"), 0, "payload.level", required},
        {payload("log", R"({"level":"warn","message":"m"})"), 0, "payload.level", "debug, info, warning, error"},
        {payload("log", R"({"level":"INFO","message":"m"})"), 0, "payload.level", "must be one of"},
        {payload("log", R"({"level":"info"})"), 0, "payload.message", required},
        {payload("log", R"({"level":"info","message":")" + too_long_text + "\"}"), 0, "payload.message", too_long},
        // --- span
        {payload("span", R"({"kind":"client"})"), 0, "payload.name", required},
        {payload("span", R"({"name":"s","status":"failed"})"), 0, "payload.status", "unset, ok, error"},
        {payload("span", R"({"name":"s","duration_ms":-1})"), 0, "payload.duration_ms", ">= 0"},
        {payload("span", R"({"name":"s","attributes":[]})"), 0, "payload.attributes", "must be an object"},
        {payload("span", R"({"name":"s","trace_id":"t"})"), 0, "payload.trace_id", unknown},
        // --- batch shape
        {"[]", 0, "", "must be an object"},
        {"{}", 0, "events", required},
        {R"({"events":{}})", 0, "events", "must be an array"},
        {R"({"events":null})", 0, "events", "must be an array"},
        {R"({"events":[]})", 0, "events", "1 to 1000 events"},
        {batch_of(thousand_and_one), 0, "events", "1 to 1000 events"},
        {R"({"events":[)" + good_thought + R"(],"extra":1})", 0, "extra", unknown},
        // --- the bad event's own index
        {batch_of({good_thought, good_thought, event_with("thought", "{}")}), 2, "payload.text", required},
        {batch_of({good_thought, event_with("log", R"({"level":"loud","message":"m"})")}), 1, "payload.level",
         "must be one of"},
    };
}

}  // namespace obs::domain::test
