#include "tests/support/fixture_config.h"

#include <fstream>

namespace eddy::test {

void use_disk_store(Config& c, const std::filesystem::path& dir) {
  c.in_memory = false;
  c.data_dir = dir.string();
}

void write_credentials(Config& c, const std::filesystem::path& dir, const std::string& text) {
  const auto path = dir / "credentials.ini";
  std::ofstream(path) << text;
  c.credentials_file = path.string();
}

}  // namespace eddy::test
