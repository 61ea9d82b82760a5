#pragma once
// Settings a fixture's configure() makes in a directory of its own: pass ServerFixture::temp_dir(),
// which outlives the server (restart() included) and is removed after it stops.
#include <filesystem>
#include <string>

#include "server/config.h"

namespace eddy::test {

// An on-disk store in `dir`.
void use_disk_store(Config& c, const std::filesystem::path& dir);
// A credentials file (docs/auth.md) holding `text`, written into `dir`.
void write_credentials(Config& c, const std::filesystem::path& dir, const std::string& text);

}  // namespace eddy::test
