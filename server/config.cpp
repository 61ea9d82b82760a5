#include "server/config.h"

namespace eddy {

std::string to_string(FsyncMode m) {
  switch (m) {
    case FsyncMode::always: return "always";
    case FsyncMode::interval: return "interval";
    case FsyncMode::never: return "never";
  }
  return "interval";
}

bool parse_fsync_mode(const std::string& s, FsyncMode& out) {
  if (s == "always") out = FsyncMode::always;
  else if (s == "interval") out = FsyncMode::interval;
  else if (s == "never") out = FsyncMode::never;
  else return false;
  return true;
}

}  // namespace eddy
