// The app's hops to the writer and the readers; see app.hpp.
#include "server/app.hpp"

#include <boost/json/object.hpp>

namespace obs::server {

app::app(boost::asio::io_context& io, config cfg, app_parts parts, int schema_version,
         std::vector<std::string> route_names)
    : io_(io), cfg_(std::move(cfg)), auth_(cfg_.keys), parts_(std::move(parts)), schema_version_(schema_version),
      route_names_(std::move(route_names)) {
    counters_.per_route.resize(route_names_.size());
    counters_.durations.resize(route_names_.size());
}

api_error app::overloaded(std::string what) {
    ++counters_.rejected_overloaded;
    api_error e = make_error(error_code::overloaded, std::move(what));
    e.retry_after_seconds = 1;
    return e;
}

boost::asio::awaitable<boost::system::result<persistence::write_outcome, api_error>> app::submit(
    std::vector<domain::event> batch, std::optional<persistence::artifact_row> artifact) {
    using delivered = std::optional<persistence::write_outcome>;
    persistence::in_transaction_hook hook;
    if (artifact) hook = persistence::artifact_row_writer(std::move(*artifact));
    auto& writer = parts_.writer;
    // The outcome comes back through the inbox, which runs it on this thread
    // once per write group: the coroutine resumes there without another post.
    auto start = [&writer, &batch, &hook, inbox = parts_.inbox](auto deliver) {
        const bool queued = writer.try_submit(
            std::move(batch),
            [inbox, deliver](persistence::write_outcome o) {
                inbox->push([deliver, o = std::move(o)]() mutable { deliver(delivered(std::move(o))); });
            },
            std::move(hook));
        if (!queued) deliver(delivered{});
    };
    delivered outcome = co_await async::await_hand_off<delivered>(io_.get_executor(), std::move(start));
    if (!outcome) co_return overloaded("the write queue is full; nothing was stored, retry shortly");
    using status = persistence::write_outcome::status;
    if (outcome->result == status::conflict) {
        api_error e = make_error(error_code::conflict, outcome->message);
        e.details.push_back(
            boost::json::object{{"index", outcome->conflict_index}, {"path", "id"}, {"message", outcome->message}});
        co_return e;
    }
    if (outcome->result == status::failed) {
        api_error e = make_error(error_code::unavailable, "the database could not store the batch: " + outcome->message);
        e.retry_after_seconds = 1;
        co_return e;
    }
    std::size_t fresh = 0;
    for (const auto& ack : outcome->acks) fresh += ack.duplicate ? 0 : 1;
    counters_.events_accepted += fresh;
    counters_.events_duplicate += outcome->acks.size() - fresh;
    co_return std::move(*outcome);
}

}  // namespace obs::server
