// A server with authentication off on an on-disk store in a fresh directory: the set-up of the
// tests that restart eddy and look at what RocksDB holds (S3 limits and recovery, start-up work).
#pragma once

#include "tests/support/fixture_config.h"
#include "tests/support/server_fixture.h"

namespace eddy::test {

class OnDiskFixture : public ServerFixture {
 protected:
  void configure(Config& c) override {
    c.auth = "off";
    use_disk_store(c, temp_dir("eddy-on-disk"));
  }
};

}  // namespace eddy::test
