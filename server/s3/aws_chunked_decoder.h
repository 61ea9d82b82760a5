#pragma once
// Decoder of `Content-Encoding: aws-chunked` bodies: "<hex-size>[;chunk-signature=<sig>]\r\n
// <data>\r\n" frames, a zero-size final frame, then optional trailing headers
// (x-amz-checksum-*, x-amz-trailer-signature) and an empty line.
//
// The frames do not line up with the HTTP pieces the front end hands over, so this is a state
// machine fed arbitrary slices of one stream. Memory is bounded: only the current header or
// trailer line is buffered (capped), chunk data passes straight through to the consumer.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::s3 {

struct ChunkedError {
  std::string code;     // S3 error code: IncompleteBody, SignatureDoesNotMatch, MalformedTrailerError
  std::string message;
  int status = 400;
};

class AwsChunkedDecoder {
 public:
  // For STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) in verify mode: every chunk signature
  // (and the trailer signature) is checked against this chain.
  struct Signing {
    wire::sigv4::SigningKey key;
    std::string amz_date;
    std::string scope;
    std::string seed_signature;
  };
  using Sink = std::function<void(std::string_view)>;

  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxTrailers = 16;
  // Larger than any single S3 upload (5 GiB): a size beyond this is garbage, not data.
  static constexpr uint64_t kMaxChunkBytes = 5ull * 1024 * 1024 * 1024;

  explicit AwsChunkedDecoder(std::optional<Signing> signing = std::nullopt);

  // Decodes the next slice; payload bytes go to `sink` as they are found. After an error the
  // decoder stays failed and returns the same error.
  std::optional<ChunkedError> feed(std::string_view in, const Sink& sink);
  // The body ended: it must have ended after the final frame (and its trailers).
  std::optional<ChunkedError> finish();

  // Trailing headers (names lowercased, values trimmed), x-amz-trailer-signature excluded.
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }
  uint64_t decoded_bytes() const { return decoded_; }
  bool done() const { return state_ == State::done; }

 private:
  enum class State { size_line, data, data_crlf, trailer_line, done, failed };
  std::optional<ChunkedError> fail(std::string code, std::string message, int status = 400);
  std::optional<ChunkedError> on_size_line();
  std::optional<ChunkedError> on_chunk_end();
  std::optional<ChunkedError> on_trailer_line();

  std::optional<Signing> signing_;
  std::optional<wire::sigv4::ChunkSigner> chain_;
  State state_ = State::size_line;
  std::string line_;
  uint64_t remaining_ = 0;
  uint64_t decoded_ = 0;
  size_t crlf_seen_ = 0;
  std::string expected_signature_;
  std::optional<wire::checksum::Hasher> sha_;  // SHA-256 of the current chunk (signed mode)
  std::string trailer_signature_;
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::optional<ChunkedError> error_;
};

}  // namespace eddy::s3
