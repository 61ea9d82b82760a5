#pragma once
// Admin endpoints of throttling, fault injection and the clock:
//   /_eddy/throttle, /_eddy/throttle/streams/<name>, /_eddy/faults, /_eddy/clock
#include <functional>

namespace eddy {

class App;
class Router;

namespace admin {

void register_throttle_endpoints(Router& router, App& app);
void register_fault_endpoints(Router& router, App& app);
// `trim_soon` applies Kinesis retention off the calling thread (the maintenance thread) and
// then calls its argument there: POST /_eddy/clock answers once the trim is done without
// holding up the other connections of its event loop.
void register_clock_endpoints(Router& router, App& app, std::function<void(std::function<void()>)> trim_soon);

}  // namespace admin
}  // namespace eddy
