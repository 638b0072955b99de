// Tests of domain/plain_batch.cpp, the streaming fast path of a batch: it
// accepts the common bodies, each with events equal to the full decoder's
// (payload text byte for byte, run facts, times, client ids); it declines,
// for the full
// decoder to judge, what it does not handle and everything malformed or
// invalid; and on thousands of random mutations of good bodies it never
// accepts what the full decoder refuses, nor decodes anything differently.
// (Every body the validation tests decode with decode_text is checked the
// same way; see validation_support.cpp.)
#include "domain/plain_batch.hpp"
#include "domain/same_body.hpp"

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

// Good events the fast path must take: every type with every optional field,
// escapes and Unicode, numbers of every JSON kind, keys in any order.
std::vector<std::string> accepted_events() {
    return {
        good_thought,
        event_with("run_started", R"({"name":"n","agent":"a","parent_run_id":"p.1:x-2","tags":["x","y z"],)"
                                  R"("metadata":{"k":"v","empty":"","\u00e9":"\n"}})"),
        event_with("run_started", R"({"agent":"a","name":"n","tags":[],"metadata":{}})"),
        event_with("run_started",
                   R"({"name":"n","agent":"a","tags":)" + string_array(32) + R"(,"metadata":)" + string_map(64) + "}"),
        event_with("run_finished", R"({"status":"failed","summary":"it broke"})"),
        event_with("run_finished", R"({"status":"cancelled"})"),
        event_with("thought", R"({"text":"a\"b\\c\n\t\r\b\f\u0001\u001f\u007f\u00e9\ud83d\ude00 / \u2028"})"),
        event_with("thought", R"({"text":""})"),
        event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":{"q":"x","n":[1,-2,3.5,1e300,-0,0.0,-0.0,)"
                                R"(1E-7,true,false,null,{"a":{}}],"big":18446744073709551615,)"
                                R"("huge":123456789012345678901234567890,"neg":-9223372036854775808,)"
                                R"("\u006b\"ey":"v","ключ":"значение","a":{"a":{"a":1}}}})"),
        event_with("tool_call", R"({"arguments":{},"call_id":"c","tool":"t"})"),
        event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + nested_objects(64) + "}"),
        event_with("tool_result", R"({"call_id":"c","output":)" + nested_arrays(64) + "}"),
        event_with("tool_result", R"({"call_id":"c","output":"text","is_error":true,"duration_ms":0})"),
        event_with("tool_result", R"({"call_id":"c","output":null,"is_error":false,"duration_ms":9223372036854775807})"),
        event_with("tool_result", R"({"call_id":"c","output":[1,"two",{"three":[3]}]})"),
        event_with("tool_result", R"({"call_id":"c","output":-12.5e-3})"),
        event_with("llm_call", R"({"model":"m","provider":"p","input_tokens":10,"output_tokens":7,)"
                               R"("latency_ms":5,"cost_usd":0.0125,"prompt":"text","completion":"c"})"),
        event_with("llm_call", R"({"model":"m","cost_usd":3,"input_tokens":0})"),
        event_with("llm_call", R"({"model":"m","cost_usd":18446744073709551615})"),
        event_with("llm_call", R"({"model":"m","cost_usd":-0.0,"output_tokens":9223372036854775807})"),
        event_with("llm_call", R"({"model":"m","prompt":[{"role":"user","content":"hi"},"raw",[]]})"),
        event_with("error", R"({"kind":"k","message":"m","stack":"s\nt","fatal":true})"),
        event_with("log", R"({"level":"warning","message":"m"})"),
        event_with("log", R"({"message":"m","level":"debug"})"),
        event_with("span", R"({"name":"GET /","kind":"client","status":"ok","duration_ms":4,)"
                           R"("attributes":{"http.status_code":200,"tags":["a"]}})"),
        // Keys out of order at every level and inside arrays, with escapes,
        // control characters, bytes above ASCII, prefixes, a key that is
        // empty.
        event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":{"z":[{"b":1,"a":{"d":[{"y":0,"x":1}],)"
                                R"("c":2}},{"b":{},"a":[]}],"a\"":1,"a#":2,"a!":3,"k\n":4,"k\u000b":5,"k ":6,)"
                                R"("\u00e9":7,"~":8,"\u007f":9,"ab":10,"a":11,"":12,"\ud83d\ude00":13,"\u2028":14}})"),
        event_with("span", R"({"status":"error","name":"n","kind":"k","attributes":{"z":1,"y":{"b":2,"a":3}}})"),
        event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + string_map(64) + "}"),
        // Envelope fields in other orders, with every optional field;
        // escapes in the strings.
        R"({"ts":"2026-11-27T23:04:05.5+01:00","node":"worker-1","parent_id":"p9","run_id":"r2",)"
        R"("type":"thought","payload":{"text":"t"}})",
        R"({"type":"log","node":"","run_id":"r","payload":{"level":"info","message":"m"},)"
        R"("ts":"1970-01-01T00:00:00Z"})",
        R"({"run_id":")" + std::string(128, 'r') + R"(","type":"thought","node":")" + std::string(128, 'n') +
            R"(","payload":{"text":"t"}})",
        R"({"node":"w\u00e9\"\n\u0001","ts":"\u0032026-11-27T23:04:05Z","run_id":"\u0072\u0031",)"
        R"("type":"\u0074hought","parent_id":"p\u002e1","payload":{"text":"t"}})",
        event_with("thought", R"({"text":")" + longest_text + "\"}"),
    };
}

// `event` with a client id: first (before the envelope's other keys) for
// an even `n`, right before the payload for an odd one.
std::string with_id(const std::string& event, std::size_t n) {
    const std::string member = R"("id":"client-)" + std::to_string(n) + "\",";
    const std::size_t at = n % 2 == 0 ? 1 : event.find(R"("payload")");
    return event.substr(0, at) + member + event.substr(at);
}

// Good bodies: each event alone without and with an id, batches mixing
// both, a client id with escapes, the largest id, spacing anywhere.
std::vector<std::string> accepted_corpus() {
    std::vector<std::string> corpus;
    const auto events = accepted_events();
    for (std::size_t i = 0; i < events.size(); ++i) {
        corpus.push_back(one(events[i]));
        corpus.push_back(one(with_id(events[i], i)));
    }
    corpus.push_back(R"({"events":[{"run_id":"r1","type":"run_started","payload":{"name":"demo","agent":"planner"}},)"
                     R"({"run_id":"r1","type":"tool_call","payload":{"tool":"search","call_id":"c1",)"
                     R"("arguments":{"q":"gears"}}}]})");
    corpus.push_back(batch_of({with_id(events[8], 8), events[8], with_id(events[10], 10), with_id(events[0], 1)}));
    corpus.push_back(one(R"({"id":"\u0063lient.1:x-\u0041","run_id":"r","type":"thought","payload":{"text":"t"}})"));
    // A client id after the payload.
    corpus.push_back(one(R"({"run_id":"r","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"b":1,"a":2}},)"
                         R"("node":"n","id":"i"})"));
    corpus.push_back(one(R"({"id":")" + std::string(128, 'i') + R"(","run_id":"r","type":"thought",)"
                         R"("payload":{"text":"t"}})"));
    corpus.push_back(" \n{ \"events\" :\t[ { \"run_id\" : \"r\" ,\r\n \"type\" : \"tool_call\" , \"payload\" : { "
                     "\"tool\" : \"t\" , \"call_id\" : \"c\" , \"arguments\" : { \"a\" : [ 1 , { } , [ ] ] } } } ] } \n");
    corpus.push_back(" { \"events\" : [ { \"id\" : \"s\" , \"type\" : \"log\" , \"payload\" : { \"message\" : "
                     "\"m\" , \"level\" : \"info\" } , \"run_id\" : \"r\" } ] } ");
    return corpus;
}

// 1000 events: the largest batch, with and without client ids.
std::vector<std::string> largest_batches() {
    std::vector<std::string> plain(domain::max_batch_events, good_thought);
    std::vector<std::string> with_ids;
    for (std::size_t i = 0; i < domain::max_batch_events; ++i)
        with_ids.push_back(with_id(event_with("tool_call", R"({"tool":"t","call_id":"c)" + std::to_string(i) +
                                                               R"(","arguments":{"q":"x","k":)" + std::to_string(i) +
                                                               "}}"),
                                   i * 2));
    return {batch_of(plain), batch_of(with_ids)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(accepts_good_bodies_with_the_full_decoders_events) {
    auto corpus = accepted_corpus();
    for (auto& body : largest_batches()) corpus.push_back(std::move(body));
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

// An event the fast path decodes, sent again with other key orders and
// spacing, is the same body (domain/same_body.hpp) as the stored one; a
// changed value or key is another.
BOOST_AUTO_TEST_CASE(a_resend_in_another_key_order_is_the_same_body) {
    const std::string original =
        R"({"id":"e","run_id":"r","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"x":{"b":[1,{"d":2,"c":3}],"a":null}}}})";
    const std::string reordered =
        R"({ "type" : "tool_call", "payload" : {"arguments":{"x":{"a":null,"b":[1,{"c":3,"d":2}]}},)"
        R"("call_id":"c","tool":"t"},"run_id":"r", "id" : "e"})";
    const std::string changed[] = {
        R"({"id":"e","run_id":"r","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"x":{"b":[1,{"d":2,"c":4}],"a":null}}}})",
        R"({"id":"e","run_id":"r","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"x":{"b":[1,{"d":2,"e":3}],"a":null}}}})",
        R"({"id":"e","run_id":"r","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"x":{"b":[{"d":2,"c":3},1],"a":null}}}})",
    };
    const auto first = domain::decode_plain_batch(one(original), now);
    const auto again = domain::decode_plain_batch(one(reordered), now + 1000);
    BOOST_TEST_REQUIRE(first.has_value());
    BOOST_TEST_REQUIRE(again.has_value());
    const domain::stored_event stored = as_stored(first->front());
    BOOST_TEST(domain::same_body(again->front(), stored));
    for (const auto& body : changed) {
        BOOST_TEST_CONTEXT(body) {
            const auto other = domain::decode_plain_batch(one(body), now);
            BOOST_TEST_REQUIRE(other.has_value());
            BOOST_TEST(!domain::same_body(other->front(), stored));
        }
    }
}

// Valid bodies outside the fast path's shape: the full decoder takes them.
BOOST_AUTO_TEST_CASE(declines_valid_bodies_it_does_not_handle) {
    const std::string cases[] = {
        one(R"({"run_id":"r","payload":{"text":"t"},"type":"thought"})"),
        one(R"({"id":"i","run_id":"r","payload":{"text":"t"},"type":"thought"})"),
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
        one(R"({"id":"a","run_id":"r","id":"a","type":"thought","payload":{"text":"t"}})"),
        one(R"({"id":"a","run_id":"r","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":)"
            R"({"x":[{"k":1,"j":2,"\u006b":3}]}}})"),
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
        // Client ids that break the id rule.
        one(R"({"id":"","run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"id":"a b","run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"id":"\u00e9","run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"id":")" + std::string(129, 'i') + R"(","run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"id":1,"run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"id":null,"run_id":"r","type":"thought","payload":{"text":"t"}})"),
        one(R"({"run_id":"r","type":"thought","payload":{"text":"t"},"id":["a"]})"),
        one(R"({"run_id":"r","type":"thought","payload":{"text":"t"},"id":{}})"),
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
    std::size_t accepted_with_ids = 0;
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
            if (expect_fast_path_agrees(body, full)) {
                ++accepted;
                for (const auto& ev : full.events) {
                    if (!ev.id_given) continue;
                    ++accepted_with_ids;
                    break;
                }
            }
        }
    }
    BOOST_TEST_MESSAGE("mutants: " << mutants << ", parsed: " << parsed << ", accepted by the fast path: " << accepted
                                   << ", of them with client ids: " << accepted_with_ids);
    BOOST_TEST(accepted >= mutants / 20);  // about a tenth, with this seed
    BOOST_TEST(accepted_with_ids >= mutants / 50);
}

BOOST_AUTO_TEST_SUITE_END()
