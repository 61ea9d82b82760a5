// AwsChunkedDecoder fed one body split at fuzzer-chosen points. The first byte picks signed
// (verify) or unsigned mode and the next bytes the split points. Splitting must not change
// what comes out: the payload, the trailers and the error are those of the body fed whole.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "server/s3/aws_chunked_decoder.h"

using namespace eddy;

namespace {

struct Outcome {
  std::string payload;
  std::optional<s3::ChunkedError> error;
  std::vector<std::pair<std::string, std::string>> trailers;
};

std::optional<s3::AwsChunkedDecoder::Signing> signing(bool on) {
  if (!on) return std::nullopt;
  const wire::sigv4::Scope scope{"20130524", "us-east-1", "s3"};
  return s3::AwsChunkedDecoder::Signing{
      wire::sigv4::derive_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", scope),
      "20130524T000000Z", scope.str(),
      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};
}

Outcome run(bool signed_mode, const std::string& body, const std::vector<size_t>& cuts) {
  Outcome o;
  s3::AwsChunkedDecoder d(signing(signed_mode));
  const auto sink = [&](std::string_view piece) { o.payload.append(piece); };
  size_t at = 0;
  for (size_t cut : cuts) {
    if (cut < at || cut > body.size()) continue;
    o.error = d.feed(std::string_view(body).substr(at, cut - at), sink);
    at = cut;
    if (o.error) break;
  }
  if (!o.error) o.error = d.feed(std::string_view(body).substr(at), sink);
  if (!o.error) o.error = d.finish();
  if (o.payload.size() != d.decoded_bytes()) std::abort();
  o.trailers = d.trailers();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  const bool signed_mode = p.ConsumeBool();
  std::vector<size_t> cuts(p.ConsumeIntegralInRange<size_t>(0, 8));
  for (auto& c : cuts) c = p.ConsumeIntegralInRange<size_t>(0, 4096);
  std::sort(cuts.begin(), cuts.end());
  const std::string body = p.ConsumeRemainingBytesAsString();

  const Outcome whole = run(signed_mode, body, {});
  const Outcome split = run(signed_mode, body, cuts);
  if (whole.error.has_value() != split.error.has_value()) std::abort();
  if (whole.error && (whole.error->code != split.error->code || whole.error->message != split.error->message))
    std::abort();
  if (!whole.error && (whole.payload != split.payload || whole.trailers != split.trailers)) std::abort();
  return 0;
}
