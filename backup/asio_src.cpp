// Compiles Boost.Asio once for the whole program (BOOST_ASIO_SEPARATE_COMPILATION):
// every other translation unit includes only Asio's declarations, which keeps
// builds on two cores in minutes.
#include <boost/asio/impl/src.hpp>
