#pragma once
// `eddy fetch`: an ivy-pattern artifact fetcher/publisher over S3 (signed) or a public-read
// HTTPS repository (unsigned GETs, the form Gradle uses), verifying .sha1/.md5 beside the artifact.
#include <CLI/CLI.hpp>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "client/session.h"

namespace eddy::client {

struct FetchOptions {
  std::string repo;  // s3://BUCKET/PREFIX/ or https://host/path/
  std::string pattern = "[organisation]/[artifact]-[revision].[ext]";
  std::string organisation;
  std::string artifact;
  std::string revision;
  std::string ext = "jar";
  std::string out = ".";
  std::vector<std::string> publish;  // files to upload instead of fetching
  bool no_checksums = false;
  SessionOptions session;
};

// Ivy pattern substitution: [token] from `tokens`; a "(...)" group is dropped when a token in
// it is empty or missing. nullopt with *error when a token outside a group has no value.
std::optional<std::string> expand_ivy_pattern(const std::string& pattern,
                                              const std::map<std::string, std::string>& tokens, std::string* error);

// env: where credentials and region come from (the process environment by default).
int run_fetch(const FetchOptions& options, std::ostream& out, std::ostream& err,
              Environment env = process_environment());

void register_fetch_command(CLI::App& app);

}  // namespace eddy::client
