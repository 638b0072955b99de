// The C++ SDK suite's entry point: each *_test.cpp adds one test suite that
// drives the SDK against the real observability-server binary.
#define BOOST_TEST_MODULE sdk_cpp
#include <boost/test/unit_test.hpp>
