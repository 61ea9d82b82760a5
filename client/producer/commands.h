#pragma once
// `eddy put` and `eddy bridge`, registered by client/tools.cpp.
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "client/producer/tool_options.h"
#include "client/producer/transport.h"
#include "client/session.h"

namespace eddy::producer {

struct PutOptions {
  std::string stream;
  KplFlags kpl;
  std::string key;            // --key: one partition key for every record
  int key_field = 0;          // --key-field N: the Nth (1-based) field of each line
  std::string delimiter = ",";
  std::optional<double> rate;  // --rate: generate load (0: as fast as possible)
  std::size_t size = 100;      // --size: bytes of data per generated record
  double duration = 10;        // --duration: seconds of generated load
  std::uint64_t count = 0;     // --count: stop after this many generated records (0: none)
  std::uint64_t keys = 1000;   // --keys: distinct partition keys of generated records (0: random each)
  client::SessionOptions session;
};

// Runs `eddy put` over `transport`: records from `in` (one a line) or generated; the JSON summary
// goes to out, errors to err. `stop` ends the input early (SIGINT/SIGTERM). Returns the exit code.
int run_put(const PutOptions& o, Transport& transport, std::FILE* in, std::ostream& out,
            std::ostream& err, const std::atomic<bool>& stop);

struct BridgeOptions {
  std::string stream;
  KplFlags kpl;
  std::string listen = "127.0.0.1:5140";
  std::size_t max_buffer_bytes = 8u << 20;
  // --receive-buffer: SO_RCVBUF of the listening socket (so accepted ones inherit it before the
  // handshake fixes the window scale) and of each accepted socket. 0: the kernel's default,
  // which autotunes up to net.ipv4.tcp_rmem's maximum. Linux doubles the value for its own
  // bookkeeping and caps it at net.core.rmem_max.
  std::size_t receive_buffer = 0;
  int metrics_port = -1;         // -1: no metrics listener; 0: an ephemeral port
  std::string framing = "auto";  // lf | octet | auto
  double drain_timeout = 30;     // seconds
  double idle_timeout = 0.5;     // seconds without bytes after which a draining connection is done
  client::SessionOptions session;
  // Called once both listeners are bound, with their ports (metrics 0 when none).
  std::function<void(std::uint16_t port, std::uint16_t metrics_port)> on_listening;
};

// Runs the bridge until SIGTERM/SIGINT (or `stop`), then drains. Prints "listening HOST:PORT"
// (and "metrics HOST:PORT") lines on err once bound, the JSON summary on out.
int run_bridge(const BridgeOptions& o, Transport& transport, std::ostream& out, std::ostream& err,
               std::atomic<bool>* stop = nullptr);

void register_put_command(CLI::App& app);
void register_bridge_command(CLI::App& app);

}  // namespace eddy::producer
