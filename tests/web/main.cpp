// Entry point of unit_web: Boost.Test generates main() here, once for all
// the suites of tests/web/.
#define BOOST_TEST_MODULE unit_web
#include <boost/test/unit_test.hpp>
