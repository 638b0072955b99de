// Entry point of unit_backup: Boost.Test generates main() here, once for all
// the suites of tests/backup/.
#define BOOST_TEST_MODULE unit_backup
#include <boost/test/unit_test.hpp>
