#pragma once
// A self-signed certificate for 127.0.0.1 (openssl req, one day) in `dir`, set as the Config's
// TLS listener on an ephemeral port: for fixtures that test the --tls-port listener.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/config.h"

namespace eddy::test {

inline void use_self_signed_tls(const std::filesystem::path& dir, Config& c) {
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " +
                          (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  c.tls_cert = (dir / "cert.pem").string();
  c.tls_key = (dir / "key.pem").string();
  c.tls_port = 0;
}

}  // namespace eddy::test
