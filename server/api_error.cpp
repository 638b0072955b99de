// Status codes and the error body of the contract, in one place.
#include "server/api_error.hpp"

#include "server/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace obs::server {

unsigned http_status(error_code code) {
    switch (code) {
        case error_code::bad_json: return 400;
        case error_code::bad_request: return 400;
        case error_code::unauthorized: return 401;
        case error_code::forbidden: return 403;
        case error_code::not_found: return 404;
        case error_code::method_not_allowed: return 405;
        case error_code::conflict: return 409;
        case error_code::too_large: return 413;
        case error_code::headers_too_large: return 431;
        case error_code::range_not_satisfiable: return 416;
        case error_code::unsupported_media_type: return 415;
        case error_code::validation_failed: return 422;
        case error_code::overloaded: return 503;
        case error_code::bad_gateway: return 502;
        case error_code::unavailable: return 503;
        case error_code::internal: return 500;
    }
    return 500;
}

const char* wire_name(error_code code) {
    switch (code) {
        case error_code::bad_json: return "bad_json";
        case error_code::bad_request: return "bad_request";
        case error_code::unauthorized: return "unauthorized";
        case error_code::forbidden: return "forbidden";
        case error_code::not_found: return "not_found";
        case error_code::method_not_allowed: return "method_not_allowed";
        case error_code::conflict: return "conflict";
        case error_code::too_large: return "too_large";
        case error_code::headers_too_large: return "headers_too_large";
        case error_code::range_not_satisfiable: return "range_not_satisfiable";
        case error_code::unsupported_media_type: return "unsupported_media_type";
        case error_code::validation_failed: return "validation_failed";
        case error_code::overloaded: return "overloaded";
        case error_code::bad_gateway: return "bad_gateway";
        case error_code::unavailable: return "unavailable";
        case error_code::internal: return "internal";
    }
    return "internal";
}

std::string error_body(const api_error& e) {
    boost::json::object inner;
    inner["code"] = wire_name(e.code);
    inner["message"] = printable_text(e.message);
    if (!e.details.empty()) inner["details"] = e.details;
    boost::json::object outer;
    outer["error"] = std::move(inner);
    return boost::json::serialize(outer);
}

}  // namespace obs::server
