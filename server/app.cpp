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
    using answer = boost::system::result<persistence::write_outcome, api_error>;
    persistence::in_transaction_hook hook;
    if (artifact) hook = persistence::artifact_row_writer(std::move(*artifact));
    // The outcome comes back through the inbox, which runs it on this thread
    // once per write group: the answer is made and the coroutine resumed
    // there without another post. (Not a coroutine: one frame fewer a write.)
    auto start = [this, batch = std::move(batch), hook = std::move(hook)](auto deliver) mutable {
        const bool queued = parts_.writer.try_submit(
            std::move(batch),
            [this, inbox = parts_.inbox, deliver](persistence::write_outcome o) {
                inbox->push([this, deliver, o = std::move(o)]() mutable { deliver(answer_to(std::move(o))); });
            },
            std::move(hook));
        if (!queued) deliver(answer(overloaded("the write queue is full; nothing was stored, retry shortly")));
    };
    return async::await_hand_off<answer>(io_.get_executor(), std::move(start));
}

boost::system::result<persistence::write_outcome, api_error> app::answer_to(persistence::write_outcome outcome) {
    using status = persistence::write_outcome::status;
    if (outcome.result == status::conflict) {
        api_error e = make_error(error_code::conflict, outcome.message);
        e.details.push_back(
            boost::json::object{{"index", outcome.conflict_index}, {"path", "id"}, {"message", outcome.message}});
        return e;
    }
    if (outcome.result == status::failed) {
        api_error e = make_error(error_code::unavailable, "the database could not store the batch: " + outcome.message);
        e.retry_after_seconds = 1;
        return e;
    }
    std::size_t fresh = 0;
    for (const auto& ack : outcome.acks) fresh += ack.duplicate ? 0 : 1;
    counters_.events_accepted += fresh;
    counters_.events_duplicate += outcome.acks.size() - fresh;
    return outcome;
}

}  // namespace obs::server
