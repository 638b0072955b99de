// The event envelope on the streaming batch decoder (plain_batch_handler.hpp):
// what happens once per event or per envelope field, not per payload token.
// An event begins in place at the end of the batch; each envelope key is
// checked against the closed set of envelope fields (no duplicates); each
// envelope string is validated and stored; and when the event ends, its
// required fields are checked and it gets a fresh UUIDv7 when the client
// sent no id.
#include "domain/plain_batch_handler.hpp"

#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "domain/validation.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace obs::domain::detail {

namespace {

unsigned envelope_bit_of(std::string_view key) {
    if (key == "run_id") return run_id_bit;
    if (key == "type") return type_bit;
    if (key == "ts") return ts_bit;
    if (key == "node") return node_bit;
    if (key == "parent_id") return parent_id_bit;
    if (key == "payload") return payload_bit;
    if (key == "id") return id_bit;
    return 0;
}

}  // namespace

void plain_batch_handler::begin_event() {
    // Built in place: moving events around was a few percent of the
    // decoding time.
    event& ev = events_.emplace_back();
    ev.received_ms = now_ms_;
    ev.ts_ms = now_ms_;
    type_.reset();
    envelope_seen_ = 0;
    payload_.clear();
}

bool plain_batch_handler::end_event(error_code& ec) {
    constexpr unsigned required = run_id_bit | type_bit | payload_bit;
    if ((envelope_seen_ & required) != required) return decline(ec);
    event& ev = events_.back();
    ev.type = *type_;
    payload_size_guess_ = payload_.size() + 16;
    if (!ev.id_given) ev.id = make_uuid_v7(now_ms_);
    ev.payload_json = std::move(payload_);
    return true;
}

bool plain_batch_handler::take_envelope_key(std::string_view key) {
    const unsigned bit = envelope_bit_of(key);
    if (bit == 0 || (envelope_seen_ & bit) != 0) return false;
    envelope_seen_ |= bit;
    envelope_key_ = bit;
    return true;
}

bool plain_batch_handler::take_envelope_string(const std::string& s) {
    switch (envelope_key_) {
    case run_id_bit:
        if (!is_valid_id(s)) return false;
        ev().run_id = s;
        return true;
    case type_bit:
        type_ = parse_event_type(s);
        return type_ && *type_ != event_type::artifact;
    case ts_bit: {
        const auto ms = parse_rfc3339(s);
        if (!ms || *ms < 0 || *ms >= rfc3339_ms_limit) return false;
        ev().ts_ms = *ms;
        ev().ts_given = true;
        return true;
    }
    case id_bit:
        if (!is_valid_id(s)) return false;
        ev().id = s;
        ev().id_given = true;
        return true;
    case node_bit:
        if (s.size() > max_node_length) return false;
        ev().node = s;
        return true;
    case parent_id_bit:
        if (!is_valid_id(s)) return false;
        ev().parent_id = s;
        return true;
    default: return false;
    }
}

}  // namespace obs::domain::detail
