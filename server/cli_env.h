#pragma once
// Environment variables for command-line flags: one rule for every flag of a (sub)command.
// `--data-dir` of `eddy serve` is EDDY_DATA_DIR (prefix "EDDY_", the flag's long name in upper
// case, '-' -> '_'); a client tool uses its own prefix (EDDY_PUT_ for `eddy put`). CLI11 reads
// the variables while parsing, so a flag on the command line wins over its variable, and the
// variable wins over a --config file (which only fills options still unset) and the default.
// A repeatable flag takes several values from one variable separated by ';'
// (EDDY_SEED="/seed/a;/seed/b"); the same separator then also works on the command line.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <string>

namespace eddy::cli {

// The variable of a long flag name ("data-dir" -> PREFIX + "DATA_DIR").
inline std::string env_name(const std::string& prefix, std::string flag) {
  std::transform(flag.begin(), flag.end(), flag.begin(), [](unsigned char c) {
    return c == '-' ? '_' : static_cast<char>(std::toupper(c));
  });
  return prefix + flag;
}

// Gives every long-named option of `app` (help excluded) its variable.
inline void bind_environment(CLI::App& app, const std::string& prefix) {
  for (CLI::Option* opt : app.get_options()) {
    if (opt == app.get_help_ptr() || opt == app.get_help_all_ptr() || opt->get_lnames().empty()) continue;
    opt->envname(env_name(prefix, opt->get_lnames().front()));
    if (opt->get_items_expected_max() > 1) opt->delimiter(';');
  }
}

}  // namespace eddy::cli
