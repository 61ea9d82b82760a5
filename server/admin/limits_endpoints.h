#pragma once
// Admin endpoints of throttling, fault injection and the clock:
//   /_eddy/throttle, /_eddy/throttle/streams/<name>, /_eddy/faults, /_eddy/clock
namespace eddy {

class App;
class Router;

namespace admin {

void register_throttle_endpoints(Router& router, App& app);
void register_fault_endpoints(Router& router, App& app);
void register_clock_endpoints(Router& router, App& app);

}  // namespace admin
}  // namespace eddy
