// Boost.JSON compiled once (header-only mode), for the client's hot JSON reads (GetRecords).
#include <boost/json/src.hpp>
