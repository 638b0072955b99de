// The end-to-end suite's entry point: every e2e_*.cpp file adds one test
// suite that drives the real observability-server binary over sockets.
#define BOOST_TEST_MODULE e2e
#include <boost/test/unit_test.hpp>
