#include "client/report.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "server/metrics/report.h"

namespace eddy::client {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

namespace {

struct Endpoint {
  std::string host, port;
};

bool parse_endpoint(std::string e, Endpoint& out, std::string* error) {
  if (e.rfind("https://", 0) == 0) {
    if (error) *error = "https endpoints are not supported by eddy report; use the plain-HTTP port";
    return false;
  }
  if (e.rfind("http://", 0) == 0) e = e.substr(7);
  if (auto slash = e.find('/'); slash != std::string::npos) e.resize(slash);
  if (e.empty()) {
    if (error) *error = "empty endpoint";
    return false;
  }
  if (e.front() == '[') {  // [::1]:4566
    auto close = e.find(']');
    if (close == std::string::npos) {
      if (error) *error = "bad endpoint " + e;
      return false;
    }
    out.host = e.substr(1, close - 1);
    out.port = close + 1 < e.size() && e[close + 1] == ':' ? e.substr(close + 2) : "80";
    return true;
  }
  auto colon = e.rfind(':');
  out.host = colon == std::string::npos ? e : e.substr(0, colon);
  out.port = colon == std::string::npos ? "80" : e.substr(colon + 1);
  return true;
}

bool write_file(const std::string& path, const std::string& data, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace

bool http_get(const std::string& endpoint, const std::string& target, int& status, std::string& body,
              std::string* error, const std::string& bearer) {
  Endpoint ep;
  if (!parse_endpoint(endpoint, ep, error)) return false;
  try {
    boost::asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(resolver.resolve(ep.host, ep.port));
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, ep.host + ":" + ep.port);
    req.set(bhttp::field::user_agent, "eddy-report/" EDDY_VERSION);
    req.set(bhttp::field::connection, "close");
    if (!bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer);
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(256u * 1024 * 1024);
    bhttp::read(stream, buffer, parser);
    status = static_cast<int>(parser.get().result_int());
    body = std::move(parser.get().body());
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return true;
  } catch (const boost::system::system_error& e) {
    // code().message() without Asio's source location.
    if (error) *error = "GET " + endpoint + target + ": " + e.code().message();
    return false;
  } catch (const std::exception& e) {
    if (error) *error = "GET " + endpoint + target + ": " + e.what();
    return false;
  }
}

int run_report(const ReportOptions& o) {
  auto fetch_json = [&](const std::string& target, json& out) {
    int status = 0;
    std::string body, error;
    if (!http_get(o.endpoint, target, status, body, &error, o.admin_token)) {
      std::cerr << "eddy report: " << error << "\n";
      return false;
    }
    if (status == 401) {
      std::cerr << "eddy report: GET " << target << " answered 401: eddy asks for its admin token; "
                << (o.admin_token.empty() ? "give it with --admin-token or EDDY_ADMIN_TOKEN"
                                          : "the one given (--admin-token or EDDY_ADMIN_TOKEN) is not it")
                << "\n";
      return false;
    }
    if (status != 200) {
      std::cerr << "eddy report: GET " << target << " answered " << status << ": " << body << "\n";
      return false;
    }
    out = json::parse(body, nullptr, false);
    if (out.is_discarded()) {
      std::cerr << "eddy report: GET " << target << " did not answer JSON\n";
      return false;
    }
    return true;
  };

  json report;
  if (!fetch_json("/_eddy/report?format=json", report)) return 1;
  std::string rendered;
  try {
    if (o.format == "json") rendered = report.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    else if (o.format == "csv") rendered = metrics::render_csv(report);
    else rendered = metrics::render_text(report);
  } catch (const json::exception& e) {
    std::cerr << "eddy report: unexpected report shape: " << e.what() << "\n";
    return 1;
  }
  std::string error;
  if (o.output.empty()) {
    std::cout << rendered << std::flush;
  } else if (!write_file(o.output, rendered, &error)) {
    std::cerr << "eddy report: " << error << "\n";
    return 1;
  }

  if (!o.svg_file.empty()) {
    json series;
    if (!fetch_json("/_eddy/metrics/series?seconds=" + std::to_string(o.seconds), series)) return 1;
    if (!write_file(o.svg_file, render_throughput_svg(series), &error)) {
      std::cerr << "eddy report: " << error << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace eddy::client
