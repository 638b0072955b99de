// The duplicate-or-conflict comparison (see same_body.hpp). Both payload
// texts are the server's compact serialisation of what a client sent, so
// equal text is equal JSON; only different text is parsed, and compared as
// Boost.JSON values, whose object equality ignores member order.
#include "domain/same_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace obs::domain {

namespace {

bool same_payload(std::string_view a, std::string_view b) {
    if (a == b) return true;
    boost::system::error_code ec_a, ec_b;
    const boost::json::value va = boost::json::parse(a, ec_a);
    const boost::json::value vb = boost::json::parse(b, ec_b);
    return !ec_a && !ec_b && va == vb;
}

bool same_time(const event& incoming, const stored_event& stored) {
    if (incoming.ts_given) return incoming.ts_ms == stored.ts_ms;
    return stored.ts_ms == stored.received_ms;
}

}  // namespace

bool same_body(const event& incoming, const stored_event& stored) {
    return incoming.run_id == stored.run_id && incoming.type == stored.type && incoming.node == stored.node &&
           incoming.parent_id == stored.parent_id && same_time(incoming, stored) &&
           same_payload(incoming.payload_json, stored.payload_json);
}

}  // namespace obs::domain
