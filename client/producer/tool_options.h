#pragma once
#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>

#include "client/producer/config.h"

// The KPL settings as flags of `eddy put` / `eddy bridge` (--record-max-buffered-time 100 is
// RecordMaxBufferedTime = 100), over a kpl.properties file given with --config. Flags win over
// the file; both win over the KPL defaults.
namespace eddy::producer {

struct KplFlags {
  std::string config_file;
  std::map<std::string, std::string> values;  // KPL name -> flag text, for flags given
  // Adds --config and one flag per KPL setting; `skip` names settings the tool fixes itself.
  void add_to(CLI::App& cmd, const std::vector<std::string>& skip = {});
  // Defaults, then the file, then the flags.
  bool build(ProducerConfig& c, std::string* error) const;
};

// A JSON number with at most 3 decimals, for the summaries.
std::string json_seconds(double s);

}  // namespace eddy::producer
