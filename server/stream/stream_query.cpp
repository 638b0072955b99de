// Parsing of the stream's request: see stream_query.hpp. Boost.URL splits and
// percent-decodes the query; the rules of each parameter live here.
#include "server/stream/stream_query.hpp"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>
#include <utility>

namespace obs::server {

namespace {

api_error bad_request(std::string message) {
    return make_error(error_code::bad_request, std::move(message));
}

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Quotes a client value for an error message, cut short so a huge value
// does not make a huge answer.
std::string quoted(std::string_view value) {
    constexpr std::size_t shown = 64;
    std::string out = "'";
    out.append(value.substr(0, shown));
    if (value.size() > shown) {
        out += "...";
    }
    out += "'";
    return out;
}

}  // namespace

std::optional<std::int64_t> parse_offset(std::string_view text) {
    if (text.empty() || text.front() < '0' || text.front() > '9') {
        return std::nullopt;  // from_chars would accept a leading '-'
    }
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end) {
        return std::nullopt;
    }
    return value;
}

boost::system::result<stream_query, api_error> parse_stream_query(
    std::string_view target, std::optional<std::string_view> last_event_id_header) {
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) {
        return bad_request("the request target is not a valid path and query");
    }
    stream_query query;
    bool query_id_given = false;
    boost::urls::encoding_opts literal_plus;
    literal_plus.space_as_plus = false;
    for (const auto& param : url->params(literal_plus)) {
        const std::string_view key = param.key;
        const std::string_view value = param.has_value ? std::string_view(param.value) : std::string_view();
        if (key == "run_id") {
            if (!domain::is_valid_id(value)) {
                return bad_request("run_id " + quoted(value) + " is not a valid identifier");
            }
            if (query.run_ids.size() == max_stream_run_ids) {
                return bad_request("at most " + std::to_string(max_stream_run_ids) + " run_id filters are allowed");
            }
            query.run_ids.emplace_back(value);
        } else if (key == "type") {
            const auto type = domain::parse_event_type(value);
            if (!type) {
                return bad_request("type " + quoted(value) + " is not an event type");
            }
            query.types.push_back(*type);
        } else if (key == "last_event_id") {
            if (query_id_given) {
                return bad_request("last_event_id is given more than once");
            }
            query_id_given = true;
            const auto offset = parse_offset(value);
            if (!offset) {
                return bad_request("last_event_id " + quoted(value) + " is not a non-negative integer");
            }
            query.last_event_id = offset;
        } else if (key == "access_token") {
            if (query.access_token) {
                return bad_request("access_token is given more than once");
            }
            query.access_token = std::string(value);
        }
    }
    if (last_event_id_header) {
        const std::string_view header = trim_blanks(*last_event_id_header);
        if (!header.empty()) {
            const auto offset = parse_offset(header);
            if (!offset) {
                return bad_request("Last-Event-ID " + quoted(header) + " is not a non-negative integer");
            }
            query.last_event_id = offset;  // the header wins over the query
        }
    }
    return query;
}

stream_filter::stream_filter(std::vector<std::string> run_ids, const std::vector<domain::event_type>& types)
    : run_ids_(std::move(run_ids)), types_(types) {
    for (const auto type : types) {
        type_mask_ |= 1U << static_cast<unsigned>(type);
    }
}

bool stream_filter::matches(const domain::stored_event& ev) const {
    if (type_mask_ != 0 && (type_mask_ & (1U << static_cast<unsigned>(ev.type))) == 0) {
        return false;
    }
    if (run_ids_.empty()) {
        return true;
    }
    for (const auto& id : run_ids_) {
        if (id == ev.run_id) {
            return true;
        }
    }
    return false;
}

persistence::offset_filter stream_filter::to_offset_filter() const {
    return persistence::offset_filter{run_ids_, types_};
}

stream_filter filter_of(const stream_query& query) {
    return stream_filter(query.run_ids, query.types);
}

}  // namespace obs::server
