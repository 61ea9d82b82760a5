// The throughput chart of `eddy report --svg`: time on x, per-second rates on y; for each
// stream one solid path (user records/s) and one dashed path (PUTs/s, i.e. Kinesis records/s).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "client/report.h"

namespace eddy::client {

using nlohmann::json;

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                                    "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') out += ' ';
        else out += c;
    }
  }
  return out;
}

std::string f2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string clock_label(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

// 1, 2 or 5 times a power of ten, at least v.
double nice_ceiling(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

}  // namespace

std::string render_throughput_svg(const json& series) {
  const int W = 960, H = 440, L = 70, R = 230, T = 40, B = 50;
  const int pw = W - L - R, ph = H - T - B;
  const int64_t from_s = series.value("from_s", int64_t{0});
  const json& streams = series.contains("streams") ? series["streams"] : json::object();

  // Crop to the seconds that saw traffic (plus one either side), so a short run is not a
  // sliver at the right edge of an hour.
  int64_t n = 0;
  for (const auto& [_, f] : streams.items()) n = std::max<int64_t>(n, static_cast<int64_t>(f.value("records", json::array()).size()));
  int64_t first = n, last = -1;
  double ymax = 0;
  for (const auto& [_, f] : streams.items()) {
    for (const char* key : {"records", "user_records"}) {
      const json& v = f.value(key, json::array());
      for (int64_t i = 0; i < static_cast<int64_t>(v.size()); ++i) {
        double x = v[static_cast<size_t>(i)].get<double>();
        if (x > 0) {
          first = std::min(first, i);
          last = std::max(last, i);
        }
        ymax = std::max(ymax, x);
      }
    }
  }
  if (last < 0) {
    first = 0;
    last = std::max<int64_t>(n - 1, 0);
  } else {
    first = std::max<int64_t>(first - 1, 0);
    last = std::min<int64_t>(last + 1, std::max<int64_t>(n - 1, 0));
  }
  const int64_t span = std::max<int64_t>(last - first, 1);
  ymax = nice_ceiling(ymax);
  auto X = [&](int64_t i) { return L + static_cast<double>(i - first) / static_cast<double>(span) * pw; };
  auto Y = [&](double v) { return T + ph - v / ymax * ph; };

  std::string s;
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(W) + "\" height=\"" + std::to_string(H) +
       "\" viewBox=\"0 0 " + std::to_string(W) + " " + std::to_string(H) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<title>eddy: throughput per stream (user records/s solid, PUTs/s dashed)</title>\n";
  s += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(W) + "\" height=\"" + std::to_string(H) + "\" fill=\"white\"/>\n";
  s += "<text x=\"" + std::to_string(L) + "\" y=\"22\" font-size=\"15\">Throughput per stream (UTC)</text>\n";
  // Axes and grid.
  s += "<g class=\"axes\" stroke=\"#999\" stroke-width=\"1\">\n";
  s += "<line x1=\"" + std::to_string(L) + "\" y1=\"" + std::to_string(T + ph) + "\" x2=\"" + std::to_string(L + pw) +
       "\" y2=\"" + std::to_string(T + ph) + "\"/>\n";
  s += "<line x1=\"" + std::to_string(L) + "\" y1=\"" + std::to_string(T) + "\" x2=\"" + std::to_string(L) +
       "\" y2=\"" + std::to_string(T + ph) + "\"/>\n</g>\n<g class=\"ticks\" fill=\"#333\">\n";
  for (int i = 0; i <= 5; ++i) {
    double v = ymax * i / 5;
    s += "<line x1=\"" + std::to_string(L) + "\" x2=\"" + std::to_string(L + pw) + "\" y1=\"" + f2(Y(v)) + "\" y2=\"" +
         f2(Y(v)) + "\" stroke=\"#eee\"/>\n";
    char label[32];
    std::snprintf(label, sizeof label, "%g", v);
    s += "<text x=\"" + std::to_string(L - 6) + "\" y=\"" + f2(Y(v) + 4) + "\" text-anchor=\"end\">" + label + "</text>\n";
  }
  for (int i = 0; i <= 4; ++i) {
    int64_t idx = first + span * i / 4;
    s += "<text x=\"" + f2(X(idx)) + "\" y=\"" + std::to_string(T + ph + 18) + "\" text-anchor=\"middle\">" +
         clock_label(from_s + idx) + "</text>\n";
  }
  s += "<text x=\"16\" y=\"" + std::to_string(T + ph / 2) + "\" transform=\"rotate(-90 16 " + std::to_string(T + ph / 2) +
       ")\" text-anchor=\"middle\">per second</text>\n</g>\n";

  // One path per stream per series.
  int k = 0;
  std::string legend;
  int ly = T + 10;
  for (const auto& [name, f] : streams.items()) {
    const char* color = kPalette[k % std::size(kPalette)];
    for (const auto& [key, label, dash] : {std::tuple{"user_records", "user records/s", ""},
                                           std::tuple{"records", "PUTs/s", "6 4"}}) {
      const json& v = f.value(key, json::array());
      std::string d;
      for (int64_t i = first; i <= last && i < static_cast<int64_t>(v.size()); ++i) {
        d += (d.empty() ? "M" : " L") + f2(X(i)) + "," + f2(Y(v[static_cast<size_t>(i)].get<double>()));
      }
      if (d.empty()) d = "M" + f2(X(first)) + "," + f2(Y(0));
      s += "<path class=\"series\" data-stream=\"" + xml_escape(name) + "\" data-series=\"" +
           (std::string(key) == "records" ? "puts" : "user_records") + "\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"2\"" + (*dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : "") + " d=\"" + d +
           "\"/>\n";
      legend += "<line x1=\"" + std::to_string(L + pw + 20) + "\" x2=\"" + std::to_string(L + pw + 50) + "\" y1=\"" +
                std::to_string(ly) + "\" y2=\"" + std::to_string(ly) + "\" stroke=\"" + color +
                "\" stroke-width=\"2\"" + (*dash ? std::string(" stroke-dasharray=\"") + dash + "\"" : "") + "/>\n";
      legend += "<text x=\"" + std::to_string(L + pw + 56) + "\" y=\"" + std::to_string(ly + 4) + "\">" +
                xml_escape(name) + " " + label + "</text>\n";
      ly += 18;
    }
    ++k;
  }
  if (k == 0) s += "<text x=\"" + std::to_string(L + pw / 2) + "\" y=\"" + std::to_string(T + ph / 2) +
                   "\" text-anchor=\"middle\">no streams</text>\n";
  s += "<g class=\"legend\">\n" + legend + "</g>\n</svg>\n";
  return s;
}

}  // namespace eddy::client
