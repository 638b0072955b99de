// Fuzz harness: the two decoders of POST /observability/events, the
// streaming fast path (domain/plain_batch.cpp) and the full decoder
// (parse_json + decode_event_batch). They must agree: whatever the fast path
// accepts, the full decoder accepts with equal events (the server-made ids
// aside); and every accepted event's stored texts (payload, tags, metadata)
// must be valid JSON with only finite numbers.
#include "domain/plain_batch.hpp"
#include "domain/validation.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

constexpr std::int64_t now = 1795817045123;

void check_same(const obs::domain::event& fast, const obs::domain::event& full) {
    using obs::fuzz::check;
    check(fast.run_id == full.run_id, "run_id differs");
    check(fast.type == full.type, "type differs");
    check(fast.ts_ms == full.ts_ms && fast.received_ms == full.received_ms, "times differ");
    check(fast.node == full.node && fast.parent_id == full.parent_id, "node or parent_id differs");
    check(fast.payload_json == full.payload_json, "payload text differs", fast.payload_json);
    check(fast.id_given == full.id_given && fast.ts_given == full.ts_given, "id_given or ts_given differs");
    check(!full.id_given || fast.id == full.id, "client id differs");
    const auto& a = fast.facts;
    const auto& b = full.facts;
    check(a.name == b.name && a.agent == b.agent && a.parent_run_id == b.parent_run_id, "run facts differ");
    check(a.tags_json == b.tags_json && a.metadata_json == b.metadata_json, "tags or metadata differ");
    check(a.final_status == b.final_status, "final status differs");
    check(a.input_tokens == b.input_tokens && a.output_tokens == b.output_tokens && a.cost_usd == b.cost_usd,
          "llm counters differ");
}

void check_stored(const obs::domain::event& ev) {
    obs::fuzz::check_stored_json(ev.payload_json, true, "stored payload is not finite JSON");
    if (ev.facts.tags_json) obs::fuzz::check_stored_json(*ev.facts.tags_json, false, "stored tags");
    if (ev.facts.metadata_json) obs::fuzz::check_stored_json(*ev.facts.metadata_json, true, "stored metadata");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    const auto fast = obs::domain::decode_plain_batch(body, now);
    const auto parsed = obs::domain::parse_json(body);
    obs::fuzz::check(parsed.value.has_value() != parsed.error.has_value(), "parse_json: value xor error");
    if (parsed.error) obs::fuzz::check(parsed.error->byte_offset <= size, "parse_json: offset past the end");
    if (!parsed.value) {
        obs::fuzz::check(!fast, "the fast path accepted what parse_json refuses", body);
        return 0;
    }
    const auto full = obs::domain::decode_event_batch(*parsed.value, now);
    if (fast) {
        obs::fuzz::check(full.ok(), "the fast path accepted what the full decoder refuses", body);
        obs::fuzz::check(fast->size() == full.events.size(), "event counts differ");
        for (std::size_t i = 0; i < fast->size(); ++i) check_same((*fast)[i], full.events[i]);
    }
    if (full.ok()) {
        obs::fuzz::check(!full.events.empty(), "an accepted batch without events");
        for (const auto& ev : full.events) check_stored(ev);
    } else {
        obs::fuzz::check(full.events.empty(), "events kept beside violations");
    }
    return 0;
}
