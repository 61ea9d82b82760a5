#pragma once
// An App on the in-memory store (manual clock, auth off, one thread), started once per fuzzer
// process, and a way to run a request through a service's Dispatch without sockets: for the S3
// targets. Kinesis targets use the shared harness, tests/support/in_process_kinesis.h.
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <string>
#include <variant>

#include "server/app.h"
#include "server/http/message.h"

namespace eddy::fuzz {

inline App& app() {
  static std::unique_ptr<App> a = [] {
    Config c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.in_memory = true;
    c.log_level = "off";
    c.threads = 1;
    c.clock = "manual";
    c.auth = "off";
    auto p = std::make_unique<App>(c);
    std::string error;
    if (!p->start(&error)) {
      std::fprintf(stderr, "App::start: %s\n", error.c_str());
      std::abort();
    }
    return p;
  }();
  return *a;
}

// What the front end would do with the Dispatch, given the whole body.
inline http::Response run(http::Dispatch d, http::Request& req, std::string body) {
  if (auto* i = std::get_if<http::Immediate>(&d)) return std::move(i->response);
  if (auto* b = std::get_if<http::BufferBody>(&d)) {
    if (body.size() > b->max_bytes) return b->too_large(req);
    req.body = std::move(body);
    return b->handle(req);
  }
  auto& s = std::get<http::StreamBody>(d);
  if (auto r = s.sink->write(body)) return std::move(*r);
  return s.sink->finish();
}

}  // namespace eddy::fuzz
