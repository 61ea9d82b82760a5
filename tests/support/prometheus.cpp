#include "tests/support/prometheus.h"

#include <cstdlib>
#include <sstream>

namespace eddy::test {

double PrometheusText::value(const std::string& key, double missing) const {
  auto it = samples.find(key);
  return it == samples.end() ? missing : it->second;
}

double PrometheusText::sum(const std::string& name, const std::vector<std::string>& labels) const {
  double total = 0;
  for (const auto& [key, v] : samples) {
    if (key.compare(0, name.size(), name) != 0) continue;
    if (key.size() != name.size() && key[name.size()] != '{') continue;
    bool all = true;
    for (const auto& l : labels) all = all && key.find(l, name.size()) != std::string::npos;
    if (all) total += v;
  }
  return total;
}

PrometheusText parse_prometheus(const std::string& text) {
  PrometheusText out;
  std::string body = text;
  if (body.rfind("HTTP/", 0) == 0) {
    auto head_end = body.find("\r\n\r\n");
    body = head_end == std::string::npos ? std::string() : body.substr(head_end + 4);
  }
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      out.helped.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      auto sp = rest.find(' ');
      out.types[rest.substr(0, sp)] = sp == std::string::npos ? "" : rest.substr(sp + 1);
      continue;
    }
    if (line[0] == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos) {
      out.bad_lines.push_back(line);
      continue;
    }
    const std::string v = line.substr(sp + 1);
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size()) {
      out.bad_lines.push_back(line);
      continue;
    }
    const std::string key = line.substr(0, sp);
    const std::string name = key.substr(0, key.find('{'));
    if (!out.helped.count(name) || !out.types.count(name)) out.undescribed.push_back(key);
    out.samples[key] = d;
  }
  return out;
}

}  // namespace eddy::test
