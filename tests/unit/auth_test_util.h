#pragma once
// Pieces shared by the authenticator's unit tests: requests captured from botocore (signed as
// AKIDEXAMPLE at 2026-11-25T12:00:00Z) turned back into http::Requests.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "server/auth/authenticator.h"
#include "server/http/message.h"

namespace eddy::auth::testutil {

inline constexpr int64_t kSignedAtMs = 1795608000LL * 1000;  // 2026-11-25T12:00:00Z
inline constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Vector {
  std::string method, path, query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

inline http::Request make(const Vector& v) {
  http::Request r;
  r.method = v.method;
  r.path = v.path;
  r.query = v.query;
  r.target = v.query.empty() ? v.path : v.path + "?" + v.query;
  for (const auto& [k, val] : v.headers) r.headers.add(k, val);
  r.body = v.body;
  return r;
}

// Loads `text` as a credentials file (written to a per-process temp file, removed afterwards).
inline bool load_credentials_text(const std::string& text, CredentialStore& store, std::string* error) {
  const std::string path = ::testing::TempDir() + "eddy_auth_credentials." + std::to_string(::getpid());
  std::ofstream(path) << text;
  const bool ok = load_credentials_file(path, store, error);
  std::remove(path.c_str());
  return ok;
}

// An extra element of a failure ("<absent>" if it has none of that name).
inline std::string detail(const AuthResult& r, const std::string& name) {
  for (const auto& [k, v] : r.details)
    if (k == name) return v;
  return "<absent>";
}

}  // namespace eddy::auth::testutil
