// Scanning answers for the few values the workloads check, without parsing them.
#include "bench/load/workload.h"

namespace eddy::bench {

std::string scan_json_value(std::string_view body, std::string_view member) {
  const std::string key = "\"" + std::string(member) + "\"";
  size_t pos = body.find(key);
  if (pos == std::string_view::npos) return {};
  pos = body.find_first_not_of(" \t\r\n:", pos + key.size());
  if (pos == std::string_view::npos) return {};
  if (body[pos] == '"') {
    const size_t end = body.find('"', pos + 1);
    return end == std::string_view::npos ? std::string{} : std::string(body.substr(pos + 1, end - pos - 1));
  }
  const size_t end = body.find_first_not_of("-0123456789.eE+", pos);
  return std::string(body.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
}

std::string scan_xml(std::string_view body, std::string_view tag, size_t from) {
  const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  const size_t a = body.find(open, from);
  if (a == std::string_view::npos) return {};
  const size_t b = body.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  return std::string(body.substr(a + open.size(), b - a - open.size()));
}

size_t count_of(std::string_view body, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = body.find(needle); pos != std::string_view::npos; pos = body.find(needle, pos + needle.size())) ++n;
  return n;
}

std::string snippet(int status, std::string_view body) {
  std::string s = "HTTP " + std::to_string(status);
  if (!body.empty()) s += ": " + std::string(body.substr(0, 200));
  return s;
}

}  // namespace eddy::bench
