// The bridge from the io thread to the writer thread, and error answers.
#include "server/app.hpp"

#include "server/stream_hub.hpp"

#include <string>

namespace obs::server {

app::app(boost::asio::io_context& io, config cfg, persistence::event_writer& writer, persistence::read_pool& readers,
         stream_hub& hub, int schema_version)
    : io_(io), cfg_(std::move(cfg)), auth_(cfg_.keys), writer_(writer), readers_(readers), hub_(hub),
      schema_version_(schema_version), inbox_(std::make_shared<completion_inbox>(io.get_executor())) {
    // Committed events reach the hub on the io thread in offset order, and
    // before the requests that stored them are answered: the inbox runs its
    // completions in the order the one writer thread pushed them.
    writer_.set_commit_listener([inbox = inbox_, &hub](persistence::committed_events events) {
        inbox->push([&hub, events = std::move(events)] { hub.publish(events); });
    });
    writer_.set_group_end_listener([inbox = inbox_] { inbox->flush(); });
}

http_answer error_answer(const api_error& e) {
    http_answer a{http_status(e.code), error_body(e), std::string(json_content_type), {}};
    if (e.retry_after_seconds > 0) a.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
    return a;
}

boost::asio::awaitable<std::optional<persistence::write_outcome>> app::submit(std::vector<domain::event> batch,
                                                                             persistence::in_transaction_hook hook) {
    using result_t = std::optional<persistence::write_outcome>;
    // Named, not written inside the co_await (GCC 12 relocates such temporaries).
    auto initiation = [this, &batch, &hook](auto handler) {
        // The writer's callback must be copyable (std::function): share the handler.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto ex = io_.get_executor();
        bool queued = writer_.try_submit(
            std::move(batch),
            [shared, inbox = inbox_](persistence::write_outcome o) {
                inbox->push([shared, o = std::move(o)]() mutable { (*shared)(result_t(std::move(o))); });
            },
            std::move(hook));
        if (!queued) boost::asio::post(ex, [shared]() mutable { (*shared)(result_t{}); });
    };
    auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(result_t)>(
        std::move(initiation), boost::asio::use_awaitable);
    if (!result) ++counters_.rejected_overloaded;
    co_return result;
}

}  // namespace obs::server
