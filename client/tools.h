#pragma once
// The harness tools as `eddy` subcommands: tail, fetch (client/tail.cpp, client/fetch.cpp), and
// put, bridge (client/producer/). main.cpp calls register_client_commands(app) once; each
// subcommand runs from its CLI11 callback and ends the process with its exit code.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "client/session.h"

namespace eddy::client {

void register_client_commands(CLI::App& app);

// The flags every tool shares (--endpoint, --region, --no-verify-ssl, --profile,
// --connect-timeout-ms, --request-timeout-ms, --max-attempts) into `options`.
void add_session_options(CLI::App& cmd, SessionOptions& options);

// Gives every flag of `cmd` an environment variable: `eddy tail --stream` is EDDY_TAIL_STREAM.
// Call after all options are added.
void bind_tool_environment(CLI::App& cmd, const std::string& tool);

// Prints "eddy TOOL: message" on stderr and returns 1: the one-line error every tool ends with.
int fail(const std::string& tool, const std::string& message);

// Runs a subcommand from its CLI11 callback: a non-zero result (or an exception, reported with
// fail()) ends the process with that code through CLI::RuntimeError.
void run_tool(const std::string& tool, const std::function<int()>& body);

}  // namespace eddy::client
