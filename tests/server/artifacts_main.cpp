// Entry point of unit_artifact_routes: the artifact routes, their header
// decisions (artifact_http) and the artifact event (artifact_service).
#define BOOST_TEST_MODULE unit_artifact_routes
#include <boost/test/unit_test.hpp>
