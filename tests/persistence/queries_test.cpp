// Tests of persistence/queries.cpp on a database filled through the writer:
// list_runs (each filter, newest-first order with ties, pagination over
// several pages, malformed cursors), get_run (the run object, step_counts,
// usage, duration), list_steps (after_seq, type filter, next_after_seq),
// events_between and read_replay_page (ranges, filters, limits), the byte
// caps of steps and replay pages, and
// read_log_totals.
#include "persistence/queries.hpp"

#include "domain/time.hpp"
#include "persistence/event_writer.hpp"
#include "support.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace obs::persistence;
using namespace obs::persistence::test;
using obs::domain::event;
using obs::domain::event_type;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(queries_suite)

namespace {

constexpr std::int64_t t0 = base_ts;

void store(const temp_db& tmp, std::vector<std::vector<event>> batches) {
    event_writer w(tmp.writer_opts());
    w.start();
    std::vector<std::future<write_outcome>> futures;
    for (auto& b : batches) futures.push_back(submit(w, std::move(b)));
    for (auto& f : futures) BOOST_REQUIRE(wait(f).result == write_outcome::status::committed);
}

// Four hand-made runs plus 25 "pager" runs whose started times tie in pairs.
void fill_runs(const temp_db& tmp) {
    std::vector<std::vector<event>> batches;
    batches.push_back({run_started("r1", "first", "planner", t0 + 1000, R"(["x","y"])", R"({"team":"a"})"),
                       thought("r1", t0 + 1100), llm_call("r1", 10, 5, 0.5, t0 + 1200), thought("r1", t0 + 1300),
                       run_finished("r1", "succeeded", t0 + 1500)});
    batches.push_back({run_started("r2", "second", "coder", t0 + 2000, R"(["y"])", "{}", "r1"), error_event("r2", t0 + 2100)});
    batches.push_back({run_started("r3", "third", "planner", t0 + 3000), run_finished("r3", "failed", t0 + 3001)});
    batches.push_back({thought("r4", t0 + 2000)});  // no run_started: no name
    std::vector<event> pager;
    for (int i = 0; i < 25; ++i) {
        const std::string id = (i < 10 ? "p-0" : "p-") + std::to_string(i);
        pager.push_back(run_started(id, "page", "pager", t0 + (i / 2) * 10));
    }
    batches.push_back(std::move(pager));
    store(tmp, std::move(batches));
}

std::vector<std::string> ids_of(const json::object& body) {
    std::vector<std::string> ids;
    for (const json::value& run : body.at("runs").as_array()) ids.emplace_back(run.at("id").as_string());
    return ids;
}

std::string b64url(std::string_view s) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : s) {
        acc = (acc << 8) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) out += alphabet[(acc >> (bits -= 6)) & 0x3f];
    }
    if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3f];
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(list_runs_filters) {
    temp_db tmp;
    fill_runs(tmp);
    db_ptr db = tmp.open(true);
    struct filter_case {
        std::string what;
        run_filter filter;
        std::vector<std::string> ids;
    };
    auto f = [](auto setter) {
        run_filter r;
        r.agent = std::nullopt;
        setter(r);
        return r;
    };
    const filter_case cases[] = {
        {"status succeeded", f([](run_filter& r) { r.status = "succeeded"; }), {"r1"}},
        {"status failed", f([](run_filter& r) { r.status = "failed"; }), {"r3"}},
        {"agent planner", f([](run_filter& r) { r.agent = "planner"; }), {"r3", "r1"}},
        {"tag y", f([](run_filter& r) { r.tag = "y"; }), {"r2", "r1"}},
        {"tag x", f([](run_filter& r) { r.tag = "x"; }), {"r1"}},
        {"tag nobody has", f([](run_filter& r) { r.tag = "z"; }), {}},
        {"since and until, ties by id desc", f([](run_filter& r) {
             r.since_ms = t0 + 1000;
             r.until_ms = t0 + 3000;
         }), {"r4", "r2", "r1"}},
        {"running, not pager", f([](run_filter& r) {
             r.status = "running";
             r.since_ms = t0 + 1000;
         }), {"r4", "r2"}},
        {"agent and tag", f([](run_filter& r) {
             r.agent = "coder";
             r.tag = "y";
         }), {"r2"}},
        {"unknown agent", f([](run_filter& r) { r.agent = "nobody"; }), {}},
    };
    for (const filter_case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            const query_result r = list_runs(db.get(), c.filter);
            BOOST_REQUIRE(r.body.has_value());
            BOOST_TEST(r.error.empty());
            BOOST_TEST(ids_of(*r.body) == c.ids, boost::test_tools::per_element());
            BOOST_TEST(r.body->at("next_cursor").is_null());
        }
    }
}

BOOST_AUTO_TEST_CASE(list_runs_pages_newest_first) {
    temp_db tmp;
    fill_runs(tmp);
    db_ptr db = tmp.open(true);
    run_filter all;
    all.agent = "pager";
    all.limit = 500;
    const std::vector<std::string> expected = ids_of(*list_runs(db.get(), all).body);
    BOOST_REQUIRE(expected.size() == 25u);
    BOOST_TEST(expected.front() == "p-24");
    BOOST_TEST(expected[1] == "p-23");  // (t0+110, p-23) and (t0+110, p-22): id desc within a tie
    BOOST_TEST(expected.back() == "p-00");
    for (const std::size_t limit : {std::size_t{1}, std::size_t{7}, std::size_t{12}, std::size_t{25}}) {
        BOOST_TEST_CONTEXT("limit " << limit) {
            run_filter page = all;
            page.limit = limit;
            std::vector<std::string> got;
            std::size_t pages = 0;
            for (;;) {
                const query_result r = list_runs(db.get(), page);
                BOOST_REQUIRE(r.body.has_value());
                const std::vector<std::string> ids = ids_of(*r.body);
                BOOST_TEST(ids.size() <= limit);
                got.insert(got.end(), ids.begin(), ids.end());
                ++pages;
                BOOST_REQUIRE(pages <= 30u);
                const json::value& next = r.body->at("next_cursor");
                if (next.is_null()) break;
                page.cursor = std::string{next.as_string()};
            }
            BOOST_TEST(got == expected, boost::test_tools::per_element());
            BOOST_TEST(pages == (25 + limit - 1) / limit);
        }
    }
}

BOOST_AUTO_TEST_CASE(list_runs_rejects_malformed_cursors) {
    temp_db tmp;
    fill_runs(tmp);
    db_ptr db = tmp.open(true);
    const std::string cases[] = {"", "!!!!", "A", b64url("no dot"), b64url("12.bad id"), b64url("x.r1"),
                                 b64url(".r1"), b64url("12."), b64url("99999999999999999999.r1"),
                                 b64url("12.r1") + "=", b64url("12.r1") + "B"};
    for (const std::string& cursor : cases) {
        BOOST_TEST_CONTEXT("cursor '" << cursor << "'") {
            run_filter f;
            f.cursor = cursor;
            const query_result r = list_runs(db.get(), f);
            BOOST_TEST(!r.body.has_value());
            BOOST_TEST(!r.error.empty());
        }
    }
    run_filter good;
    good.cursor = b64url(std::to_string(t0 + 2000) + ".r2");  // a well-formed cursor is accepted
    const query_result r = list_runs(db.get(), good);
    BOOST_REQUIRE(r.body.has_value());
    BOOST_TEST(ids_of(*r.body).front() == "r1");
}

BOOST_AUTO_TEST_CASE(run_objects) {
    temp_db tmp;
    fill_runs(tmp);
    db_ptr db = tmp.open(true);
    run_filter f;
    f.status = "succeeded";
    const json::object listed = list_runs(db.get(), f).body->at("runs").as_array().at(0).as_object();
    const std::vector<std::string> keys = {"id", "name", "agent", "status", "parent_run_id", "tags", "metadata",
                                           "started_at", "ended_at", "last_event_at", "step_count", "error_count"};
    std::vector<std::string> got_keys;
    for (const auto& kv : listed) got_keys.emplace_back(kv.key());
    BOOST_TEST(got_keys == keys, boost::test_tools::per_element());
    BOOST_TEST(json::serialize(listed) ==
               R"({"id":"r1","name":"first","agent":"planner","status":"succeeded","parent_run_id":null,)"
               R"("tags":["x","y"],"metadata":{"team":"a"},"started_at":"2026-11-27T22:04:06.123Z",)"
               R"("ended_at":"2026-11-27T22:04:06.623Z","last_event_at":"2026-11-27T22:04:06.623Z",)"
               R"("step_count":3,"error_count":0})");

    const std::optional<json::object> r1 = get_run(db.get(), "r1");
    BOOST_REQUIRE(r1.has_value());
    BOOST_TEST(r1->at("input_tokens").as_int64() == 10);
    BOOST_TEST(r1->at("output_tokens").as_int64() == 5);
    BOOST_TEST(r1->at("cost_usd").as_double() == 0.5);
    BOOST_TEST(r1->at("duration_ms").as_int64() == 500);
    BOOST_TEST(json::serialize(r1->at("step_counts")) ==
               R"({"llm_call":1,"run_finished":1,"run_started":1,"thought":2})");

    const std::optional<json::object> r2 = get_run(db.get(), "r2");
    BOOST_REQUIRE(r2.has_value());
    BOOST_TEST(r2->at("status").as_string() == "running");
    BOOST_TEST(r2->at("parent_run_id").as_string() == "r1");
    BOOST_TEST(r2->at("ended_at").is_null());
    BOOST_TEST(r2->at("duration_ms").is_null());
    BOOST_TEST(r2->at("error_count").as_int64() == 1);

    const std::optional<json::object> r4 = get_run(db.get(), "r4");
    BOOST_REQUIRE(r4.has_value());
    BOOST_TEST(r4->at("name").is_null());
    BOOST_TEST(r4->at("agent").is_null());
    BOOST_TEST(r4->at("tags").as_array().empty());
    BOOST_TEST(r4->at("metadata").as_object().empty());

    BOOST_TEST(!get_run(db.get(), "nope").has_value());
}

BOOST_AUTO_TEST_CASE(run_detail_costs_are_plain_decimals) {
    const std::vector<std::pair<double, std::string>> table{
        {0.0, "0"}, {0.00063, "0.00063"}, {1.5, "1.5"}, {12.25, "12.25"}, {0.1 + 0.2, "0.30000000000000004"},
    };
    for (const auto& [cost, text] : table) {
        BOOST_TEST_CONTEXT(text) {
            json::object run{{"id", "r"}, {"cost_usd", cost}, {"step_count", 2}};
            const std::string encoded = encode_run_detail(run);
            BOOST_TEST(encoded.find("\"cost_usd\":" + text + "}") != std::string::npos, encoded);
            const json::value back = json::parse(encoded);
            BOOST_TEST(back.at("cost_usd").to_number<double>() == cost);
            BOOST_TEST(back.at("id").as_string() == "r");
            BOOST_TEST(back.at("step_count").as_int64() == 2);
        }
    }
}

BOOST_AUTO_TEST_CASE(steps_pages_and_filters) {
    temp_db tmp;
    const event_type kinds[] = {event_type::thought, event_type::tool_call, event_type::tool_result,
                                event_type::thought, event_type::error};
    std::vector<event> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(make_event("s", kinds[i % 5], "{\"i\":" + std::to_string(i) + "}", t0 + i));
    batch[3].node = "worker-2";
    batch[4].parent_id = batch[3].id;
    store(tmp, {{thought("other")}, std::move(batch), {run_started("empty", "n", "a", t0)}});
    db_ptr db = tmp.open(true);

    struct steps_case {
        std::string what;
        std::int64_t after_seq;
        std::vector<event_type> types;
        std::size_t limit;
        std::vector<std::int64_t> seqs;
        std::optional<std::int64_t> next;
    };
    const steps_case cases[] = {
        {"all", 0, {}, 100, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, std::nullopt},
        {"first page", 0, {}, 4, {1, 2, 3, 4}, 4},
        {"middle page", 4, {}, 4, {5, 6, 7, 8}, 8},
        {"last page short", 8, {}, 4, {9, 10}, std::nullopt},
        {"exactly the rest", 5, {}, 5, {6, 7, 8, 9, 10}, std::nullopt},
        {"thoughts", 0, {event_type::thought}, 100, {1, 4, 6, 9}, std::nullopt},
        {"tool calls and errors, paged", 0, {event_type::tool_call, event_type::error}, 2, {2, 5}, 5},
        {"after the end", 10, {}, 100, {}, std::nullopt},
        {"a type never seen", 0, {event_type::llm_call}, 100, {}, std::nullopt},
    };
    for (const steps_case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            step_filter f;
            f.after_seq = c.after_seq;
            f.types = c.types;
            f.limit = c.limit;
            const std::optional<std::string> text = list_steps(db.get(), "s", f);
            BOOST_REQUIRE(text.has_value());
            const json::object body = json::parse(*text).as_object();
            std::vector<std::int64_t> seqs;
            for (const json::value& step : body.at("steps").as_array()) {
                seqs.push_back(step.at("seq").as_int64());
                BOOST_TEST(step.at("run_id").as_string() == "s");
            }
            BOOST_TEST(seqs == c.seqs, boost::test_tools::per_element());
            if (c.next) {
                BOOST_TEST(body.at("next_after_seq").as_int64() == *c.next);
            } else {
                BOOST_TEST(body.at("next_after_seq").is_null());
            }
        }
    }
    // The stored event as the stream shows it, verbatim.
    step_filter one;
    one.after_seq = 3;
    one.limit = 2;
    const json::array steps = json::parse(*list_steps(db.get(), "s", one)).at("steps").as_array();
    BOOST_TEST(steps[0].at("offset").as_int64() == 5);  // "other" holds offset 1
    BOOST_TEST(steps[0].at("node").as_string() == "worker-2");
    BOOST_TEST(steps[0].at("payload").at("i").as_int64() == 3);
    BOOST_TEST(steps[0].at("ts").as_string() == obs::domain::format_rfc3339_ms(t0 + 3));
    BOOST_TEST(steps[1].at("parent_id") == steps[0].at("id"));
    BOOST_TEST(steps[1].at("type").as_string() == "error");

    BOOST_TEST(!list_steps(db.get(), "nope", step_filter{}).has_value());
    BOOST_TEST(*list_steps(db.get(), "empty", step_filter{{1}, {event_type::thought}, 10}) ==
               R"({"steps":[],"next_after_seq":null})");
}

BOOST_AUTO_TEST_CASE(events_between_ranges_and_filters) {
    temp_db tmp;
    // Offsets 1..12: runs a, b, c in turn; types thought, log, error in turn
    // shifted so that run and type vary independently.
    const event_type kinds[] = {event_type::thought, event_type::log, event_type::error, event_type::thought};
    std::vector<event> batch;
    for (int i = 0; i < 12; ++i) batch.push_back(make_event(std::string(1, static_cast<char>('a' + i % 3)), kinds[i % 4], "{}"));
    store(tmp, {std::move(batch)});
    db_ptr db = tmp.open(true);

    struct between_case {
        std::string what;
        std::int64_t after, up_to;
        offset_filter filter;
        std::size_t limit;
        std::vector<std::int64_t> offsets;
    };
    const between_case cases[] = {
        {"everything", 0, 12, {}, 100, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}},
        {"a range", 3, 7, {}, 100, {4, 5, 6, 7}},
        {"limited", 3, 12, {}, 3, {4, 5, 6}},
        {"up_to below the end", 0, 2, {}, 100, {1, 2}},
        {"empty range", 5, 5, {}, 100, {}},
        {"one run", 0, 12, {{"a"}, {}}, 100, {1, 4, 7, 10}},
        {"two runs", 0, 12, {{"a", "c"}, {}}, 100, {1, 3, 4, 6, 7, 9, 10, 12}},
        {"one type", 0, 12, {{}, {event_type::error}}, 100, {3, 7, 11}},
        {"run and type", 0, 12, {{"a"}, {event_type::thought}}, 100, {1, 4}},
        {"run and type, after", 1, 12, {{"a", "b"}, {event_type::thought, event_type::log}}, 2, {2, 4}},
        {"unknown run", 0, 12, {{"zz"}, {}}, 100, {}},
    };
    for (const between_case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            std::vector<std::int64_t> got;
            for (const auto& ev : events_between(db.get(), c.after, c.up_to, c.filter, c.limit)) got.push_back(ev.offset);
            BOOST_TEST(got == c.offsets, boost::test_tools::per_element());
        }
    }
    const auto one = events_between(db.get(), 4, 5, {}, 1);
    BOOST_REQUIRE(one.size() == 1u);
    BOOST_TEST(one[0].run_id == "b");
    BOOST_TEST(one[0].seq == 2);
    BOOST_TEST(static_cast<int>(one[0].type) == static_cast<int>(event_type::thought));

    // Bounded scan: a filter that matches only at the far end.
    offset_filter rare{{"c"}, {event_type::error}};  // offset 3 only (c: 3, 6, 9, 12; error: 3, 7, 11)
    replay_page p = read_replay_page(db.get(), 3, 12, rare, 100, 4);
    BOOST_TEST(p.events.empty());
    BOOST_TEST(p.scanned_to == 7);
    p = read_replay_page(db.get(), 0, 12, {{}, {}}, 2, 5);
    BOOST_TEST(p.events.size() == 2u);
    BOOST_TEST(p.scanned_to == 2);  // a full page: continue after its last event
    p = read_replay_page(db.get(), 10, 12, {}, 100, 50);
    BOOST_TEST(p.events.size() == 2u);
    BOOST_TEST(p.scanned_to == 12);
}

// Pages are capped by bytes as well as rows: a page never passes the cap
// unless it is a single event, holds at least one, and the cursor continues
// exactly where it stopped.
BOOST_AUTO_TEST_CASE(pages_are_capped_by_bytes) {
    temp_db tmp;
    // Payload sizes by seq (offset): small and large mixed, one over the cap.
    const std::vector<std::size_t> sizes{100, 3000, 100, 9000, 2500, 2500, 100, 100, 4000, 50};
    std::vector<event> batch;
    for (std::size_t i = 0; i < sizes.size(); ++i)
        batch.push_back(make_event("big", event_type::thought, R"({"text":")" + std::string(sizes[i], 'x') + "\"}",
                                   t0 + static_cast<std::int64_t>(i)));
    store(tmp, {std::move(batch)});
    db_ptr db = tmp.open(true);

    for (const std::size_t cap : {std::size_t{0}, std::size_t{1000}, std::size_t{5000}, std::size_t{8000},
                                  std::size_t{1} << 20}) {
        BOOST_TEST_CONTEXT("steps, cap " << cap) {
            std::vector<std::int64_t> seqs;
            step_filter f;
            f.limit = 1000;
            f.max_bytes = cap;
            for (int pages = 0; pages < 20; ++pages) {
                const std::string text = *list_steps(db.get(), "big", f);
                const json::object body = json::parse(text).as_object();
                const json::array& steps = body.at("steps").as_array();
                BOOST_TEST_REQUIRE(!steps.empty());
                std::size_t encoded = 0;
                for (const json::value& step : steps) {
                    seqs.push_back(step.at("seq").as_int64());
                    encoded += json::serialize(step).size() + 1;
                }
                if (steps.size() > 1) BOOST_TEST(encoded - 1 <= cap);
                if (body.at("next_after_seq").is_null()) break;
                f.after_seq = body.at("next_after_seq").as_int64();
                BOOST_TEST(f.after_seq == seqs.back());
            }
            const std::vector<std::int64_t> all{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
            BOOST_TEST(seqs == all, boost::test_tools::per_element());
        }
        BOOST_TEST_CONTEXT("replay, cap " << cap) {
            std::vector<std::int64_t> offsets;
            std::int64_t after = 0;
            for (int pages = 0; pages < 20 && after < 10; ++pages) {
                const replay_page p = read_replay_page(db.get(), after, 10, {}, 500, 20000, cap);
                BOOST_TEST_REQUIRE(!p.events.empty());
                std::size_t bytes = 0;
                for (const auto& ev : p.events) {
                    offsets.push_back(ev.offset);
                    bytes += ev.payload_json.size();
                }
                // Up to the cap plus the one event that reached it.
                BOOST_TEST(bytes - p.events.back().payload_json.size() < std::max<std::size_t>(cap, 1));
                BOOST_TEST(p.scanned_to == p.events.back().offset);
                after = p.scanned_to;
            }
            const std::vector<std::int64_t> all{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
            BOOST_TEST(offsets == all, boost::test_tools::per_element());
        }
    }
    // A cap of one byte: one event per page.
    const replay_page single = read_replay_page(db.get(), 0, 10, {}, 500, 20000, 1);
    BOOST_TEST(single.events.size() == 1u);
    step_filter tiny;
    tiny.limit = 1000;
    tiny.max_bytes = 1;
    BOOST_TEST(json::parse(*list_steps(db.get(), "big", tiny)).at("steps").as_array().size() == 1u);
    BOOST_TEST(json::parse(*list_steps(db.get(), "big", tiny)).at("next_after_seq").as_int64() == 1);
}

BOOST_AUTO_TEST_CASE(log_totals_count_events) {
    temp_db tmp;
    db_ptr empty = tmp.open(true);
    BOOST_TEST(read_log_totals(empty.get()).events == 0);
    BOOST_TEST(read_log_totals(empty.get()).last_offset == 0);
    store(tmp, {{thought("a"), thought("b")}, {thought("a")}});
    const log_totals t = read_log_totals(empty.get());
    BOOST_TEST(t.events == 3);
    BOOST_TEST(t.last_offset == 3);
}

BOOST_AUTO_TEST_SUITE_END()
