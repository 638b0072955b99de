// Fuzz harness: OTLP trace bodies (server/otlp). The same bytes go through
// the protobuf and the JSON decoder; a decodable request is mapped, and
// every mapped event must have passed validation (a finite JSON object
// payload, a valid id) while accepted + rejected spans add up to the
// request's spans minus repeats. Seeds: bodies the real OpenTelemetry JS
// exporters sent (tests/otlp/fixtures) and hand-built ones.
#include "domain/event.hpp"
#include "fuzz_check.hpp"
#include "server/otlp/otlp.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void check_result(const obs::otlp::export_result& r, std::size_t spans) {
    obs::fuzz::check(r.accepted_spans + static_cast<std::size_t>(r.rejected_spans) <= spans,
                     "more spans accounted for than sent");
    obs::fuzz::check((r.rejected_spans == 0) == r.error_message.empty(), "rejections without a message or back");
    for (const auto& ev : r.events) {
        obs::fuzz::check(obs::domain::is_valid_id(ev.id), "mapped event id is invalid", ev.id);
        obs::fuzz::check_stored_json(ev.payload_json, true, "mapped payload is not finite JSON");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view body(reinterpret_cast<const char*>(data), size);
    for (const auto enc : {obs::otlp::encoding::protobuf, obs::otlp::encoding::json}) {
        const auto decoded = obs::otlp::decode_and_map(body, enc, 1795817045123);
        if (!decoded) {
            obs::fuzz::check(!decoded.error().message.empty(), "an error without a message");
            continue;
        }
        check_result(*decoded, size);  // a span takes at least one byte
        (void)obs::otlp::encode_response(*decoded, enc);
    }
    return 0;
}
