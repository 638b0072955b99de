// Entry point of unit_domain: Boost.Test generates main() here, once for
// all the suites of tests/domain/.
#define BOOST_TEST_MODULE unit_domain
#include <boost/test/unit_test.hpp>
