// Unit tests of server/completion_inbox.cpp: completions pushed from another
// thread run on the io_context only after a flush, all of them, in push
// order, with one wakeup per flush; discard drops them unrun.
#include "server/completion_inbox.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>
#include <thread>
#include <vector>

using obs::server::completion_inbox;

BOOST_AUTO_TEST_SUITE(completion_inbox_suite)

BOOST_AUTO_TEST_CASE(runs_nothing_before_a_flush_then_everything_in_push_order) {
    boost::asio::io_context io;
    auto inbox = std::make_shared<completion_inbox>(io.get_executor());
    std::vector<int> ran;
    std::thread writer([&] {
        for (int i = 0; i < 5; ++i) inbox->push([&ran, i] { ran.push_back(i); });
    });
    writer.join();
    BOOST_TEST(io.poll() == 0u);  // pushed, not flushed: the io thread was not woken
    BOOST_TEST(ran.empty());
    io.restart();
    std::thread flusher([&] { inbox->flush(); });
    flusher.join();
    BOOST_TEST(io.poll() == 1u);  // one handler ran all five
    BOOST_TEST(ran == (std::vector<int>{0, 1, 2, 3, 4}));
}

BOOST_AUTO_TEST_CASE(one_wakeup_for_flushes_before_it_runs_and_none_when_empty) {
    boost::asio::io_context io;
    auto inbox = std::make_shared<completion_inbox>(io.get_executor());
    inbox->flush();  // nothing pending: no post
    BOOST_TEST(io.poll() == 0u);
    io.restart();
    int count = 0;
    inbox->push([&count] { ++count; });
    inbox->flush();
    inbox->push([&count] { ++count; });
    inbox->flush();  // the first flush's run is still on its way: it takes this one too
    BOOST_TEST(io.poll() == 1u);
    BOOST_TEST(count == 2);
    io.restart();
    inbox->push([&count] { ++count; });  // after the run: a new flush posts again
    inbox->flush();
    BOOST_TEST(io.poll() == 1u);
    BOOST_TEST(count == 3);
}

BOOST_AUTO_TEST_CASE(discard_destroys_pending_completions_without_running_them) {
    boost::asio::io_context io;
    auto inbox = std::make_shared<completion_inbox>(io.get_executor());
    auto token = std::make_shared<int>(0);
    bool ran = false;
    inbox->push([token, &ran] { ran = true; });
    BOOST_TEST(token.use_count() == 2);
    inbox->discard();
    BOOST_TEST(token.use_count() == 1);  // the completion and its captures are gone
    inbox->flush();
    BOOST_TEST(io.poll() == 0u);
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_SUITE_END()
