// Tests of domain/plain_batch.cpp, the streaming fast path of a batch: it
// accepts the common bodies, each with events equal to the full decoder's
// (payload text byte for byte, run facts, times); it declines, for the full
// decoder to judge, what it does not handle and everything malformed or
// invalid; and on thousands of random mutations of good bodies it never
// accepts what the full decoder refuses, nor decodes anything differently.
// (Every body the validation tests decode with decode_text is checked the
// same way; see validation_support.cpp.)
#include "domain/plain_batch.hpp"

#include "validation_support.hpp"

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <random>
#include <string>
#include <vector>

namespace domain = obs::domain;
using namespace obs::domain::test;

BOOST_AUTO_TEST_SUITE(plain_batch_suite)

namespace {

// Good bodies the fast path must take: every type with every optional field,
// escapes and Unicode, numbers of every JSON kind, keys in any order, spacing.
std::vector<std::string> accepted_corpus() {
    return {
        one(good_thought),
        R"({"events":[{"run_id":"r1","type":"run_started","payload":{"name":"demo","agent":"planner"}},)"
        R"({"run_id":"r1","type":"tool_call","payload":{"tool":"search","call_id":"c1","arguments":{"q":"gears"}}}]})",
        one(event_with("run_started", R"({"name":"n","agent":"a","parent_run_id":"p.1:x-2","tags":["x","y z"],)"
                                      R"("metadata":{"k":"v","empty":"","\u00e9":"\n"}})")),
        one(event_with("run_started", R"({"agent":"a","name":"n","tags":[],"metadata":{}})")),
        one(event_with("run_started", R"({"name":"n","agent":"a","tags":)" + string_array(32) + R"(,"metadata":)" +
                                      string_map(64) + "}")),
        one(event_with("run_finished", R"({"status":"failed","summary":"it broke"})")),
        one(event_with("run_finished", R"({"status":"cancelled"})")),
        one(event_with("thought", R"({"text":"a\"b\\c\n\t\r\b\f\u0001\u001f\u007f\u00e9\ud83d\ude00 / \u2028"})")),
        one(event_with("thought", R"({"text":""})")),
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":{"q":"x","n":[1,-2,3.5,1e300,-0,0.0,-0.0,)"
                                    R"(1E-7,true,false,null,{"a":{}}],"big":18446744073709551615,)"
                                    R"("huge":123456789012345678901234567890,"neg":-9223372036854775808,)"
                                    R"("\u006b\"ey":"v","ключ":"значение","a":{"a":{"a":1}}}})")),
        one(event_with("tool_call", R"({"arguments":{},"call_id":"c","tool":"t"})")),
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + nested_objects(64) + "}")),
        one(event_with("tool_result", R"({"call_id":"c","output":)" + nested_arrays(64) + "}")),
        one(event_with("tool_result", R"({"call_id":"c","output":"text","is_error":true,"duration_ms":0})")),
        one(event_with("tool_result", R"({"call_id":"c","output":null,"is_error":false,)"
                                      R"("duration_ms":9223372036854775807})")),
        one(event_with("tool_result", R"({"call_id":"c","output":[1,"two",{"three":[3]}]})")),
        one(event_with("tool_result", R"({"call_id":"c","output":-12.5e-3})")),
        one(event_with("llm_call", R"({"model":"m","provider":"p","input_tokens":10,"output_tokens":7,)"
                                   R"("latency_ms":5,"cost_usd":0.0125,"prompt":"text","completion":"c"})")),
        one(event_with("llm_call", R"({"model":"m","cost_usd":3,"input_tokens":0})")),
        one(event_with("llm_call", R"({"model":"m","cost_usd":18446744073709551615})")),
        one(event_with("llm_call", R"({"model":"m","cost_usd":-0.0,"output_tokens":9223372036854775807})")),
        one(event_with("llm_call", R"({"model":"m","prompt":[{"role":"user","content":"hi"},"raw",[]]})")),
        one(event_with("error", R"({"kind":"k","message":"m","stack":"s\nt","fatal":true})")),
        one(event_with("log", R"({"level":"warning","message":"m"})")),
        one(event_with("log", R"({"message":"m","level":"debug"})")),
        one(event_with("span", R"({"name":"GET /","kind":"client","status":"ok","duration_ms":4,)"
                               R"("attributes":{"http.status_code":200,"tags":["a"]}})")),
        // Envelope fields in other orders, with every optional field.
        one(R"({"ts":"2026-11-27T23:04:05.5+01:00","node":"worker-1","parent_id":"p9","run_id":"r2",)"
            R"("type":"thought","payload":{"text":"t"}})"),
        one(R"({"type":"log","node":"","run_id":"r","payload":{"level":"info","message":"m"},)"
            R"("ts":"1970-01-01T00:00:00Z"})"),
        one(R"({"run_id":")" + std::string(128, 'r') + R"(","type":"thought","node":")" + std::string(128, 'n') +
            R"(","payload":{"text":"t"}})"),
        // Spacing anywhere.
        " \n{ \"events\" :\t[ { \"run_id\" : \"r\" ,\r\n \"type\" : \"tool_call\" , \"payload\" : { \"tool\" : \"t\" ,"
        " \"call_id\" : \"c\" , \"arguments\" : { \"a\" : [ 1 , { } , [ ] ] } } } ] } \n",
        one(event_with("thought", R"({"text":")" + longest_text + "\"}")),
    };
}

// 1000 events: the largest batch.
std::string largest_batch() {
    std::vector<std::string> events(domain::max_batch_events, good_thought);
    return batch_of(events);
}

}  // namespace

BOOST_AUTO_TEST_CASE(accepts_good_bodies_with_the_full_decoders_events) {
    auto corpus = accepted_corpus();
    corpus.push_back(largest_batch());
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        BOOST_TEST_CONTEXT("body " << i << ": " << corpus[i].substr(0, 160)) {
            const auto full = domain::decode_event_batch(parse_or_fail(corpus[i]), now);
            BOOST_TEST_REQUIRE(full.ok(), describe(full.violations));
            BOOST_TEST(expect_fast_path_agrees(corpus[i], full));
        }
    }
}

BOOST_AUTO_TEST_CASE(the_payload_text_is_compact_and_the_facts_are_read) {
    const auto events = domain::decode_plain_batch(
        one(R"({"run_id":"r","type":"llm_call","ts":"2026-11-27T22:04:05.123Z","payload":{ "model" : "m",)"
            R"( "input_tokens" : 3, "output_tokens":4, "cost_usd": 0.5, "prompt": [ "a" , 1 ] }})"),
        now);
    BOOST_TEST_REQUIRE(events.has_value());
    BOOST_TEST_REQUIRE(events->size() == 1u);
    const domain::event& ev = events->front();
    BOOST_TEST(ev.payload_json ==
               R"({"model":"m","input_tokens":3,"output_tokens":4,"cost_usd":5E-1,"prompt":["a",1]})");
    BOOST_TEST(ev.facts.input_tokens == 3);
    BOOST_TEST(ev.facts.output_tokens == 4);
    BOOST_TEST(ev.facts.cost_usd == 0.5);
    BOOST_TEST(ev.ts_ms == 1795817045123);
    BOOST_TEST(ev.received_ms == now);
    BOOST_TEST(ev.run_id == "r");
}

// Valid bodies outside the fast path's shape: the full decoder takes them.
BOOST_AUTO_TEST_CASE(declines_valid_bodies_it_does_not_handle) {
    const std::string cases[] = {
        one(R"({"id":"client-1","run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"run_id":"r","payload":{"text":"t"},"type":"thought"})"),
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + string_map(65) + "}")),
    };
    for (const auto& body : cases) {
        BOOST_TEST_CONTEXT(body) {
            BOOST_TEST(decode_text(body).ok());
            BOOST_TEST(!domain::decode_plain_batch(body, now).has_value());
        }
    }
}

// Duplicate keys anywhere: the fast path declines, and parse_json refuses
// the body (validation_numbers_keys_test.cpp checks the messages).
BOOST_AUTO_TEST_CASE(declines_duplicate_keys) {
    const std::string cases[] = {
        one(R"({"run_id":"r","run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(event_with("thought", R"({"text":"a","text":"b"})")),
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":{"a":1,"a":2}})")),
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":{"a":1,"\u0061":2}})")),
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":{"x":{"k":1,"j":2,"k":3}}})")),
        one(event_with("run_started", R"({"name":"n","agent":"a","metadata":{"k":"1","k":"2"}})")),
        R"({"events":[)" + good_thought + R"(],"events":[)" + good_thought + "]}",
    };
    for (const auto& body : cases) {
        BOOST_TEST_CONTEXT(body) {
            BOOST_TEST(domain::parse_json(body).error.has_value());
            BOOST_TEST(!domain::decode_plain_batch(body, now).has_value());
        }
    }
}

// Malformed text and broken batch rules (the event rules' table is in
// validation_bad_events_test.cpp, checked through decode_text).
BOOST_AUTO_TEST_CASE(declines_malformed_bodies_and_batches) {
    std::vector<std::string> many(domain::max_batch_events + 1, good_thought);
    const std::string cases[] = {
        "",
        "   ",
        R"({"events":[)" + good_thought,
        one(good_thought) + "x",
        one(good_thought) + one(good_thought),
        R"({"events":[)" + good_thought + ",]}",
        "/* c */" + one(good_thought),
        one(event_with("thought", "{\"text\":\"\xff\"}")),
        one(event_with("thought", "{\"text\":\"\xc3\"}")),
        one(event_with("thought", R"({"text":"\ud800"})")),
        R"({"events":[]})",
        batch_of(many),
        R"({"events":{}})",
        R"({"events":"x"})",
        R"({"events":[1]})",
        R"({"events":[[]]})",
        R"({"events":[)" + good_thought + R"(],"extra":1})",
        R"({})",
        "[]",
        "null",
        R"("events")",
        one(event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + nested_objects(65) + "}")),
        one(event_with("tool_result", R"({"call_id":"c","output":)" + nested_arrays(65) + "}")),
        one(event_with("tool_result", R"({"call_id":"c","output":)" + nested_arrays(300) + "}")),
    };
    for (const auto& body : cases) {
        BOOST_TEST_CONTEXT(body.substr(0, 160)) { BOOST_TEST(!domain::decode_plain_batch(body, now).has_value()); }
    }
}

// Random edits of good bodies (a byte dropped, added, replaced, a slice
// repeated): whatever the fast path accepts, the full decoder accepts with
// equal events. Enough mutants stay valid for the agreement to be tested.
BOOST_AUTO_TEST_CASE(random_mutations_never_make_the_two_disagree) {
    const auto corpus = accepted_corpus();
    std::vector<std::string> seeds;
    for (const auto& body : corpus)
        if (body.size() < 4096) seeds.push_back(body);
    const std::string alphabet = "{}[]:,\"\\ 0123456789-.eE+tfnulraxu\x01\x1f\x7f\x80\xc3\xa9\xff";
    std::mt19937 rng(20261129);
    auto pick = [&rng](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
    std::size_t accepted = 0;
    std::size_t parsed = 0;
    const std::size_t mutants = 50000;
    for (std::size_t m = 0; m < mutants; ++m) {
        std::string body = seeds[pick(seeds.size())];
        const std::size_t edits = 1 + pick(3);
        for (std::size_t e = 0; e < edits && !body.empty(); ++e) {
            const std::size_t at = pick(body.size());
            const auto c = static_cast<unsigned char>(body[at]);
            switch (pick(6)) {
            case 0: body.erase(at, 1); break;
            case 1: body.insert(at, 1, alphabet[pick(alphabet.size())]); break;
            case 2: body[at] = alphabet[pick(alphabet.size())]; break;
            case 3: body.insert(pick(body.size()), body.substr(at, 1 + pick(20))); break;
            // Edits that often keep the JSON valid: a letter or digit for
            // another of its kind (names, enums, numbers, ids change), a space.
            case 4:
                if (std::isalpha(c)) body[at] = static_cast<char>('a' + pick(26));
                if (std::isdigit(c)) body[at] = static_cast<char>('0' + pick(10));
                break;
            default: body.insert(at, 1, ' '); break;
            }
        }
        auto dom = domain::parse_json(body);
        if (!dom.value) {
            BOOST_TEST(!domain::decode_plain_batch(body, now).has_value(), body);
            continue;
        }
        ++parsed;
        const auto full = domain::decode_event_batch(*dom.value, now);
        BOOST_TEST_CONTEXT(body) {
            if (expect_fast_path_agrees(body, full)) ++accepted;
        }
    }
    BOOST_TEST_MESSAGE("mutants: " << mutants << ", parsed: " << parsed << ", accepted by the fast path: " << accepted);
    BOOST_TEST(accepted >= mutants / 20);  // about a tenth, with this seed
}

BOOST_AUTO_TEST_SUITE_END()
