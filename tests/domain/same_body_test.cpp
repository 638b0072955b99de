// Tests of domain/same_body.cpp from the stored row's side: which rows an
// event sent again under their id matches. validation_test.cpp and
// plain_batch_test.cpp check it on events as both decoders make them.
#include "domain/same_body.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>

namespace domain = obs::domain;

namespace {

constexpr std::int64_t t0 = 1795817045123;

domain::stored_event stored_row() {
    domain::stored_event s;
    s.offset = 7;
    s.id = "e1";
    s.run_id = "r1";
    s.seq = 3;
    s.type = domain::event_type::tool_call;
    s.ts_ms = t0;
    s.received_ms = t0 + 40;
    s.node = "worker-1";
    s.parent_id = "p1";
    s.payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"x","k":5,"f":[1.5E0,null,true]}})";
    return s;
}

// The event that stored_row() stores, as a decoder makes it when sent again
// (a later receive time).
domain::event resent() {
    const domain::stored_event s = stored_row();
    domain::event e;
    e.id = s.id;
    e.id_given = true;
    e.run_id = s.run_id;
    e.type = s.type;
    e.ts_ms = s.ts_ms;
    e.ts_given = true;
    e.received_ms = s.received_ms + 90000;
    e.node = s.node;
    e.parent_id = s.parent_id;
    e.payload_json = s.payload_json;
    return e;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(same_body_suite)

BOOST_AUTO_TEST_CASE(which_rows_an_event_sent_again_matches) {
    struct change_case {
        const char* what;
        std::function<void(domain::event&, domain::stored_event&)> change;
        bool same;
    };
    const change_case cases[] = {
        {"nothing changed", [](auto&, auto&) {}, true},
        {"payload members in another order at every level",
         [](auto& e, auto&) { e.payload_json = R"({"arguments":{"f":[1.5E0,null,true],"k":5,"q":"x"},"call_id":"c1","tool":"search"})"; },
         true},
        {"another value", [](auto& e, auto&) { e.payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"x","k":6,"f":[1.5E0,null,true]}})"; }, false},
        {"an integer as a double", [](auto& e, auto&) { e.payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"x","k":5E0,"f":[1.5E0,null,true]}})"; }, false},
        {"an array in another order", [](auto& e, auto&) { e.payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"x","k":5,"f":[null,1.5E0,true]}})"; }, false},
        {"a member more", [](auto& e, auto&) { e.payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"x","k":5,"f":[1.5E0,null,true],"g":1}})"; }, false},
        {"another run", [](auto& e, auto&) { e.run_id = "r2"; }, false},
        {"another type", [](auto& e, auto&) { e.type = domain::event_type::tool_result; }, false},
        {"another node", [](auto& e, auto&) { e.node = "worker-2"; }, false},
        {"no node", [](auto& e, auto&) { e.node.reset(); }, false},
        {"another parent", [](auto& e, auto&) { e.parent_id = "p2"; }, false},
        {"no parent", [](auto& e, auto&) { e.parent_id.reset(); }, false},
        {"ts a millisecond later", [](auto& e, auto&) { e.ts_ms += 1; }, false},
        {"without ts, the row stored with one", [](auto& e, auto&) { e.ts_given = false; e.ts_ms = e.received_ms; }, false},
        {"without ts, the row stored without one",
         [](auto& e, auto& s) { e.ts_given = false; e.ts_ms = e.received_ms; s.ts_ms = s.received_ms; }, true},
        {"a damaged stored payload", [](auto& e, auto& s) { s.payload_json = "{\"tool\":"; e.payload_json = R"({"call_id":"c1","tool":"search"})"; }, false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            domain::event e = resent();
            domain::stored_event s = stored_row();
            c.change(e, s);
            BOOST_TEST(domain::same_body(e, s) == c.same);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
