#pragma once
// Whether eddy's admin API asks for a token, decided from --host and --admin-token
// (docs/reliability.md, "Security"); App::start applies it, admin_token_test checks it.
#include <functional>
#include <string>

namespace eddy {

// Whether --host keeps eddy to this machine: an IPv4 address in 127.0.0.0/8, ::1 (also as
// ::ffff:127.x.y.z or in brackets), or the name localhost. Anything else (0.0.0.0, ::, another
// address or name) counts as reachable from other machines.
bool is_loopback_host(const std::string& host);

// The admin API's token for --host and --admin-token (docs/reliability.md, "Security"): the
// given one if any; else, beyond loopback, one from `generate`; else none (the admin API open).
struct AdminTokenChoice {
  std::string token;            // empty: no token asked
  bool beyond_loopback = false;  // eddy warns that other machines can reach it
  bool generated = false;        // eddy logs the token it made
};
AdminTokenChoice choose_admin_token(const std::string& host, const std::string& given,
                                    const std::function<std::string()>& generate);
// 32 hex digits from OpenSSL's random generator.
std::string random_admin_token();

}  // namespace eddy
