// Whether an event sent again under an id that is already stored is "the
// same body" (a duplicate, answered with the stored offset and seq) or
// another one (a 409), design/API.md, `id`.
//
// Decided from the stored row itself when the id's insert finds it taken,
// which is rare (a retry), rather than from a hash of every incoming event
// kept beside it: that hash (SHA-256 of a canonical text) was about a third
// of the io thread's work per event with a client id, and every event an
// SDK or an OTLP exporter sends has one. Measured, callgrind instructions
// per event (batches of 100, io thread): 8.2k without an id, 30.3k with an
// id and ts before (15.9k of them SHA-256 without SHA-NI), see the note of
// the commit that made this.
#pragma once

#include "domain/event.hpp"

namespace obs::domain {

// True when `incoming` carries what `stored` (the row under the same id)
// holds: the same run, type, node and parent_id, the same payload as JSON
// (object members in any order; numbers of the same kind and value), and
// the same time. A `ts` compares as the instant it names (in any RFC 3339
// spelling); an event sent without `ts` matches a row whose time is its own
// receive time, which is what a row stored without `ts` has.
bool same_body(const event& incoming, const stored_event& stored);

}  // namespace obs::domain
