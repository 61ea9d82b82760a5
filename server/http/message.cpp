#include "server/http/message.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "server/http/dispatch.h"

namespace eddy::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

const std::string* Headers::find(std::string_view name) const {
  for (const auto& [k, v] : items_)
    if (iequals(k, name)) return &v;
  return nullptr;
}

std::string_view Headers::get(std::string_view name) const {
  const std::string* v = find(name);
  return v ? std::string_view(*v) : std::string_view();
}

void Headers::set(std::string_view name, std::string value) {
  erase(name);
  items_.emplace_back(std::string(name), std::move(value));
}

void Headers::erase(std::string_view name) {
  items_.erase(std::remove_if(items_.begin(), items_.end(),
                              [&](const auto& kv) { return iequals(kv.first, name); }),
               items_.end());
}

Response Handler::internal_error(const Request& req) {
  Response res;
  res.status = 500;
  res.headers.add("Content-Type", "application/json");
  res.body = "{\"error\":\"internal error\",\"requestId\":\"" + req.request_id + "\"}\n";
  return res;
}

Response barrier_response(Handler& handler, const Request& req, std::string_view what) {
  spdlog::error("request {} ({} {}) failed: {}; answered 500 and closed the connection", req.request_id, req.method,
                req.path, what);
  Response res;
  try {
    res = handler.internal_error(req);
  } catch (...) {
    res = handler.Handler::internal_error(req);
  }
  res.status = 500;
  res.action = ConnectionAction::close_after;
  return res;
}

void log_body_failure(const Request& req, std::string_view what) {
  spdlog::error("request {} ({} {}): reading the response body failed: {}; connection closed", req.request_id,
                req.method, req.path, what);
}

}  // namespace eddy::http
