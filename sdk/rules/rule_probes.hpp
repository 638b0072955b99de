// What domain/ says about bad input, learned by asking it: each function
// feeds domain's own validation (decode_event, decode_event_batch,
// validate_payload, artifact_name_problem) a crafted value that breaks one
// rule and records the message it answers. The rules description of the
// Python SDK is built from these, so its messages are the server's, word
// for word, without a hand-kept copy of any of them.
#pragma once

#include "domain/event.hpp"
#include "domain/payload_rules.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace obs::sdk_rules {

// A probe that did not get the one violation it was built to provoke: the
// generator stops rather than write a description the server disagrees with.
struct probe_failure {
    std::string what;
};

// The name a field kind has in the description ("text", "run_status").
std::string_view kind_name(domain::detail::field_kind kind);

// How the Python SDK checks a kind: {"check": "text"|"id"|"count"|"cost"|
// "boolean"|"tags"|"metadata"|"prompt"|"object"|"any"|"one_of"} plus
// "values" for one_of.
boost::json::object kind_description(domain::detail::field_kind kind);

// The messages of a kind's rules, keyed by rule ("not_string", "too_long",
// ...), probed on `field` of `type`, a field of that kind.
// Throws probe_failure when a probe gets no message or several.
boost::json::object kind_messages(domain::detail::field_kind kind, domain::event_type type, std::string_view field);

// The envelope's messages (root, id, run_id, type, ts, node, parent_id,
// payload, unknown field), and the payload object's own (required, unknown
// field), probed through decode_event. Throws probe_failure.
boost::json::object envelope_messages();

// True when a client may post `type` (decode_event takes it); otherwise
// `message` receives what the server answers at `type`.
bool client_may_post(domain::event_type type, std::string& message);

// The batch body's messages ({"events": [...]}), probed through
// decode_event_batch. Throws probe_failure.
boost::json::object batch_messages();

// The artifact name's messages, probed through artifact_name_problem.
// Throws probe_failure.
boost::json::object artifact_name_messages();

}  // namespace obs::sdk_rules
