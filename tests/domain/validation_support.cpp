// Helpers of the validation tests (see validation_support.hpp).
#include "validation_support.hpp"

#include <boost/test/unit_test.hpp>

namespace obs::domain::test {

namespace json = boost::json;

json::value parse_or_fail(std::string_view text) {
    auto parsed = domain::parse_json(text);
    BOOST_TEST_REQUIRE(!parsed.error.has_value(), "parse error: " << parsed.error->message);
    return std::move(*parsed.value);
}

domain::batch_result decode_text(std::string_view body) {
    auto result = domain::decode_event_batch(parse_or_fail(body), now);
    expect_fast_path_agrees(body, result);
    return result;
}

void expect_same_event(const domain::event& fast, const domain::event& full) {
    BOOST_TEST(fast.run_id == full.run_id);
    BOOST_TEST(static_cast<int>(fast.type) == static_cast<int>(full.type));
    BOOST_TEST(fast.ts_ms == full.ts_ms);
    BOOST_TEST(fast.received_ms == full.received_ms);
    BOOST_TEST((fast.node == full.node));
    BOOST_TEST((fast.parent_id == full.parent_id));
    BOOST_TEST(fast.payload_json == full.payload_json);
    BOOST_TEST((fast.facts.name == full.facts.name));
    BOOST_TEST((fast.facts.agent == full.facts.agent));
    BOOST_TEST((fast.facts.parent_run_id == full.facts.parent_run_id));
    BOOST_TEST((fast.facts.tags_json == full.facts.tags_json));
    BOOST_TEST((fast.facts.metadata_json == full.facts.metadata_json));
    BOOST_TEST((fast.facts.final_status == full.facts.final_status));
    BOOST_TEST(fast.facts.input_tokens == full.facts.input_tokens);
    BOOST_TEST(fast.facts.output_tokens == full.facts.output_tokens);
    BOOST_TEST(fast.facts.cost_usd == full.facts.cost_usd);
    BOOST_TEST(fast.ts_given == full.ts_given);
    // A client's id: the same id. A server-made one: fresh UUIDv7s on both
    // sides.
    BOOST_TEST(fast.id_given == full.id_given);
    if (full.id_given)
        BOOST_TEST(fast.id == full.id);
    else
        BOOST_TEST(fast.id.size() == 36u);
}

stored_event as_stored(const event& ev) {
    stored_event out;
    out.offset = 1;
    out.id = ev.id;
    out.run_id = ev.run_id;
    out.seq = 1;
    out.type = ev.type;
    out.ts_ms = ev.ts_ms;
    out.received_ms = ev.received_ms;
    out.node = ev.node;
    out.parent_id = ev.parent_id;
    out.payload_json = ev.payload_json;
    return out;
}

bool expect_fast_path_agrees(std::string_view body, const domain::batch_result& full) {
    const auto fast = domain::decode_plain_batch(body, now);
    if (!fast) return false;
    BOOST_TEST_REQUIRE(full.ok(), "the fast path accepted a body the full decoder refuses: " << describe(full.violations));
    BOOST_TEST_REQUIRE(fast->size() == full.events.size());
    for (std::size_t i = 0; i < fast->size(); ++i) {
        BOOST_TEST_CONTEXT("event " << i) { expect_same_event((*fast)[i], full.events[i]); }
    }
    return true;
}

std::string describe(const std::vector<domain::violation>& v) {
    std::string s;
    for (const auto& x : v) {
        // Appended piece by piece: GCC 12 misreads the chain of temporaries
        // of one long concatenation (a false -Wstringop-overflow).
        s.append("[").append(std::to_string(x.index)).append(" ").append(x.path).append(": ");
        s.append(x.message).append("] ");
    }
    return s;
}

bool has_violation(const std::vector<domain::violation>& v, std::size_t index, const std::string& path,
                   const std::string& message) {
    for (const auto& x : v)
        if (x.index == index && x.path == path && x.message.find(message) != std::string::npos) return true;
    return false;
}

domain::event decode_one(const std::string& body) {
    auto result = decode_text(body);
    BOOST_TEST_REQUIRE(result.ok(), describe(result.violations));
    BOOST_TEST_REQUIRE(result.events.size() == 1u);
    return std::move(result.events.front());
}

}  // namespace obs::domain::test
