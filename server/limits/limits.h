#pragma once
// Throttling and fault injection, owned by App: per-shard token buckets, control-plane rate
// limits and fault rules, plugged into Kinesis as hooks and into the router for S3.
#include <memory>
#include <string>

#include "server/clock.h"
#include "server/config.h"
#include "server/limits/control_plane_limiter.h"
#include "server/limits/fault_engine.h"
#include "server/limits/shard_limiter.h"

namespace eddy::limits {

struct Limits {
  Limits(const Config& config, Clock& clock, kinesis::StreamDirectory& kinesis)
      : shards(config), control(config, kinesis, shards), faults(config, clock), kinesis_faults(faults, config) {}

  // Reads the throttle settings and the --faults file. False with a message when invalid.
  bool start(std::string* error) { return shards.configure(error) && faults.load_file(error); }

  // Faults first (a fired fault answers before any limit is charged), then the control-plane
  // limits, then the per-shard buckets.
  void attach(kinesis::StreamDirectory& kinesis) {
    kinesis.add_hooks(&kinesis_faults);
    kinesis.add_hooks(&control);
    kinesis.add_hooks(&shards);
  }

  ShardLimiter shards;
  ControlPlaneLimiter control;
  FaultEngine faults;
  KinesisFaultHooks kinesis_faults;
};

}  // namespace eddy::limits
