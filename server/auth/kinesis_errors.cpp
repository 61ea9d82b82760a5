// Kinesis's answer to a request that failed authentication: the JSON/CBOR error shape of the
// protocol the request used.
#include "server/auth/authenticator.h"
#include "server/kinesis/codec.h"

namespace eddy::auth {

http::Response kinesis_error_response(const http::Request& req, const AuthResult& result) {
  std::string_view ct = req.headers.get("Content-Type");
  if (auto semi = ct.find(';'); semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  const bool json = http::iequals(ct, kinesis::kJsonContentType) || http::iequals(ct, "application/json");
  const kinesis::Encoding enc = json ? kinesis::Encoding::json : kinesis::Encoding::cbor;
  kinesis::ApiError e{result.code, result.message, result.status};
  http::Response res;
  res.status = result.status;
  res.headers.add("Content-Type", json ? kinesis::kJsonContentType : kinesis::kCborContentType);
  res.headers.add("x-amzn-ErrorType", result.code);
  res.body = kinesis::encode_error(enc, e);
  return res;
}

}  // namespace eddy::auth
