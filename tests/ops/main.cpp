// Entry point of unit_ops: Boost.Test generates main() here, once for the
// suites of tests/ops/ (the /metrics histogram and exposition writer).
#define BOOST_TEST_MODULE unit_ops
#include <boost/test/unit_test.hpp>
