// Entry point of unit_otlp: Boost.Test generates main() here, once for all
// the suites of tests/otlp/.
#define BOOST_TEST_MODULE unit_otlp
#include <boost/test/unit_test.hpp>
