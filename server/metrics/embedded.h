#pragma once
// Files compiled into the binary by server/admin/dashboard/embed.cmake (dashboard page and
// the default price table), so `eddy serve` needs nothing beside itself.
#include <cstddef>
#include <string_view>

namespace eddy::embedded {

struct Asset {
  std::string_view name;          // file name, e.g. "index.html"
  std::string_view content_type;
  std::string_view data;
};

// nullptr when no file of that name was embedded.
const Asset* find_asset(std::string_view name);

}  // namespace eddy::embedded
