// Entry point of unit_server_core: router, auth, config and error bodies.
#define BOOST_TEST_MODULE unit_server_core
#include <boost/test/unit_test.hpp>
