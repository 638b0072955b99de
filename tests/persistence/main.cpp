// Entry point of unit_persistence: Boost.Test generates main() here, once
// for all the suites of tests/persistence/.
#define BOOST_TEST_MODULE unit_persistence
#include <boost/test/unit_test.hpp>
