// The fingerprint of an event as the client sent it: the SHA-256 of its
// canonical JSON (compact, object keys sorted bytewise at every level), so
// the same event re-sent with its keys in another order or other spacing is
// recognised as a duplicate of the stored one, and a different body with the
// same id as a conflict (design/API.md, `id`). Internal to domain:
// decode_event stores it in event::fingerprint.
#pragma once

#include <boost/json/object.hpp>

#include <string>

namespace obs::domain::detail {

// The lower-case hex SHA-256 of `event_object` in canonical form, with
// `run_id` added as its "run_id" member when it has none (a steps route's
// path run counts as sent). Nothing the server makes (receive time, a fresh
// id) takes part. REQUIRES: `event_object` passed validation (its nesting is
// bounded, so the recursion is too).
std::string fingerprint_of(const boost::json::object& event_object, const std::string& run_id);

}  // namespace obs::domain::detail
