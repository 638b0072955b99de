// Query strings; see query.hpp.
#include "server/http/query.hpp"

#include "server/http/route_table.hpp"

namespace obs::server {

boost::system::result<query_params, api_error> parse_query(std::string_view target, bool plus_is_space) {
    query_params params;
    const auto q = target.find('?');
    if (q == std::string_view::npos) return params;
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto item = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (item.empty()) continue;
        const auto eq = item.find('=');
        std::string key(item.substr(0, eq));
        std::string value(eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
        if (plus_is_space)
            for (auto* s : {&key, &value})
                for (auto& c : *s)
                    if (c == '+') c = ' ';
        auto k = percent_decode(key);
        auto v = percent_decode(value);
        if (!k || !v) return make_error(error_code::bad_request, "the query has a malformed %-escape");
        params.emplace_back(std::move(*k), std::move(*v));
    }
    return params;
}

boost::system::result<query_params, api_error> parse_query(std::string_view target,
                                                          std::initializer_list<std::string_view> allowed) {
    auto params = parse_query(target);
    if (!params) return params;
    for (const auto& [key, value] : *params) {
        bool known = false;
        for (auto name : allowed) known = known || key == name;
        if (!known) return make_error(error_code::bad_request, "unknown query parameter '" + key + "'");
    }
    return params;
}

}  // namespace obs::server
