#include "server/s3/aws_chunked_decoder.h"

#include <algorithm>
#include <cctype>

#include "wire/text.h"

namespace eddy::s3 {

namespace {

using wire::text::hex_value;
using wire::text::lower;
using wire::text::trim;

constexpr std::string_view kIncompleteMessage = "The request body terminated unexpectedly";
constexpr std::string_view kBadFrameMessage =
    "An error occurred when parsing the HTTP request: the aws-chunked body is malformed.";
constexpr std::string_view kSignatureMessage =
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
constexpr std::string_view kTrailerMessage =
    "The request contained trailing data that was not well-formed or did not conform to our published schema.";

}  // namespace

AwsChunkedDecoder::AwsChunkedDecoder(std::optional<Signing> signing) : signing_(std::move(signing)) {
  if (signing_) {
    chain_.emplace(signing_->key, signing_->amz_date, signing_->scope, signing_->seed_signature);
    sha_.emplace(wire::checksum::Algorithm::sha256);
  }
}

std::optional<ChunkedError> AwsChunkedDecoder::fail(std::string code, std::string message, int status) {
  state_ = State::failed;
  error_ = ChunkedError{std::move(code), std::move(message), status};
  return error_;
}

std::optional<ChunkedError> AwsChunkedDecoder::feed(std::string_view in, const Sink& sink) {
  while (!in.empty()) {
    switch (state_) {
      case State::failed:
        return error_;
      case State::size_line:
      case State::trailer_line: {
        auto nl = in.find('\n');
        size_t take = nl == std::string_view::npos ? in.size() : nl;
        if (line_.size() + take > kMaxLineBytes) {
          return state_ == State::size_line ? fail("IncompleteBody", std::string(kBadFrameMessage))
                                            : fail("MalformedTrailerError", std::string(kTrailerMessage));
        }
        line_.append(in.data(), take);
        if (nl == std::string_view::npos) return std::nullopt;
        in.remove_prefix(nl + 1);
        auto err = state_ == State::size_line ? on_size_line() : on_trailer_line();
        line_.clear();
        if (err) return err;
        break;
      }
      case State::data: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
        std::string_view piece = in.substr(0, take);
        if (sha_) sha_->update(piece);
        sink(piece);
        decoded_ += take;
        remaining_ -= take;
        in.remove_prefix(take);
        if (remaining_ == 0) {
          state_ = State::data_crlf;
          crlf_seen_ = 0;
        }
        break;
      }
      case State::data_crlf: {
        const char want = crlf_seen_ == 0 ? '\r' : '\n';
        if (in.front() != want) return fail("IncompleteBody", std::string(kBadFrameMessage));
        in.remove_prefix(1);
        if (++crlf_seen_ == 2) {
          if (auto err = on_chunk_end()) return err;
          state_ = State::size_line;
        }
        break;
      }
      case State::done: {
        // Tolerate stray line ends after the last frame; anything else is not aws-chunked.
        if (in.front() != '\r' && in.front() != '\n') return fail("IncompleteBody", std::string(kBadFrameMessage));
        in.remove_prefix(1);
        break;
      }
    }
  }
  return std::nullopt;
}

std::optional<ChunkedError> AwsChunkedDecoder::on_size_line() {
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view size_text = line;
  std::string signature;
  if (auto semi = line.find(';'); semi != std::string_view::npos) {
    size_text = line.substr(0, semi);
    std::string_view ext = line.substr(semi + 1);
    constexpr std::string_view kSig = "chunk-signature=";
    if (ext.rfind(kSig, 0) == 0) signature = std::string(trim(ext.substr(kSig.size())));
  }
  size_text = trim(size_text);
  if (size_text.empty() || size_text.size() > 16) return fail("IncompleteBody", std::string(kBadFrameMessage));
  uint64_t size = 0;
  for (char c : size_text) {
    const int d = hex_value(c);
    if (d < 0) return fail("IncompleteBody", std::string(kBadFrameMessage));
    size = size * 16 + static_cast<uint64_t>(d);
  }
  if (size > kMaxChunkBytes) return fail("IncompleteBody", std::string(kBadFrameMessage));
  if (chain_) {
    if (signature.empty()) return fail("SignatureDoesNotMatch", std::string(kSignatureMessage), 403);
    expected_signature_ = std::move(signature);
  }
  remaining_ = size;
  if (size == 0) {
    // The final frame: its signature covers the empty chunk; trailers (if any) follow.
    if (chain_) {
      std::string computed = chain_->next("");
      if (!wire::sigv4::signatures_equal(computed, expected_signature_))
        return fail("SignatureDoesNotMatch", std::string(kSignatureMessage), 403);
    }
    state_ = State::trailer_line;
    return std::nullopt;
  }
  state_ = State::data;
  return std::nullopt;
}

std::optional<ChunkedError> AwsChunkedDecoder::on_chunk_end() {
  if (!chain_) return std::nullopt;
  std::string computed = chain_->next_hashed(sha_->final_hex());
  if (!wire::sigv4::signatures_equal(computed, expected_signature_))
    return fail("SignatureDoesNotMatch", std::string(kSignatureMessage), 403);
  return std::nullopt;
}

std::optional<ChunkedError> AwsChunkedDecoder::on_trailer_line() {
  std::string_view line = line_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    if (chain_ && !trailers_.empty()) {
      // Signed trailers must carry their own signature.
      if (trailer_signature_.empty()) return fail("SignatureDoesNotMatch", std::string(kSignatureMessage), 403);
      std::string computed = chain_->trailer(wire::sigv4::canonical_trailers(trailers_));
      if (!wire::sigv4::signatures_equal(computed, trailer_signature_))
        return fail("SignatureDoesNotMatch", std::string(kSignatureMessage), 403);
    }
    state_ = State::done;
    return std::nullopt;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail("MalformedTrailerError", std::string(kTrailerMessage));
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  if (name == "x-amz-trailer-signature") {
    trailer_signature_ = std::move(value);
    return std::nullopt;
  }
  if (trailers_.size() >= kMaxTrailers) return fail("MalformedTrailerError", std::string(kTrailerMessage));
  trailers_.emplace_back(std::move(name), std::move(value));
  return std::nullopt;
}

std::optional<ChunkedError> AwsChunkedDecoder::finish() {
  if (state_ == State::failed) return error_;
  if (state_ == State::done) return std::nullopt;
  // Some clients end the body right after the final frame's line, without the empty line
  // that closes the (empty) trailer section.
  if (state_ == State::trailer_line && line_.empty() && trailers_.empty()) {
    state_ = State::done;
    return std::nullopt;
  }
  return fail("IncompleteBody", std::string(kIncompleteMessage));
}

}  // namespace eddy::s3
