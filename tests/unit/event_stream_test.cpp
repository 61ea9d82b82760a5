// wire/event_stream: byte-for-byte against messages encoded by the AWS SDK for JavaScript's own
// codec (fixtures/event-stream/vectors.json, from tests/e2e/event_stream_vectors.mjs), decoding
// them back, round trips, and refusing corrupt or truncated input.
#include "wire/event_stream.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "wire/base64.h"
#include "wire/checksum.h"

namespace es = eddy::wire::event_stream;
using nlohmann::json;

namespace {

es::Header header_of(const json& h) {
  es::Header out;
  out.name = h["name"];
  const std::string type = h["type"];
  const json& v = h["value"];
  if (type == "boolean") out.type = v.get<bool>() ? es::HeaderType::bool_true : es::HeaderType::bool_false;
  else if (type == "byte") out.type = es::HeaderType::byte, out.number = v.get<int64_t>();
  else if (type == "short") out.type = es::HeaderType::int16, out.number = v.get<int64_t>();
  else if (type == "integer") out.type = es::HeaderType::int32, out.number = v.get<int64_t>();
  else if (type == "long") out.type = es::HeaderType::int64, out.number = std::stoll(v.get<std::string>());
  else if (type == "timestamp") out.type = es::HeaderType::timestamp, out.number = v.get<int64_t>();
  else if (type == "binary") out.type = es::HeaderType::bytes, out.bytes = *eddy::wire::base64_decode(v.get<std::string>());
  else if (type == "string") out.type = es::HeaderType::string, out.bytes = v.get<std::string>();
  else if (type == "uuid") out.type = es::HeaderType::uuid, out.bytes = *eddy::wire::checksum::from_hex(v.get<std::string>());
  return out;
}

json vectors() {
  std::ifstream in(std::string(EDDY_SOURCE_DIR) + "/fixtures/event-stream/vectors.json");
  return json::parse(in);
}

TEST(EventStream, EncodesAsTheJsSdkCodec) {
  auto v = vectors();
  ASSERT_GE(v["vectors"].size(), 5u);
  for (const auto& c : v["vectors"]) {
    es::Message m;
    for (const auto& h : c["headers"]) m.headers.push_back(header_of(h));
    m.payload = *eddy::wire::base64_decode(c["payload_b64"].get<std::string>());
    EXPECT_EQ(eddy::wire::base64_encode(es::encode(m)), c["encoded_b64"]) << c["name"];
  }
}

TEST(EventStream, DecodesTheJsSdkCodecsBytes) {
  const auto v = vectors();  // kept: a range over a temporary's member would dangle
  for (const auto& c : v["vectors"]) {
    const std::string bytes = *eddy::wire::base64_decode(c["encoded_b64"].get<std::string>());
    es::Message m;
    size_t used = 0;
    std::string error;
    ASSERT_EQ(es::decode(bytes, m, used, &error), es::DecodeStatus::ok) << c["name"] << ": " << error;
    EXPECT_EQ(used, bytes.size());
    EXPECT_EQ(m.payload, *eddy::wire::base64_decode(c["payload_b64"].get<std::string>()));
    ASSERT_EQ(m.headers.size(), c["headers"].size());
    for (size_t i = 0; i < m.headers.size(); ++i) {
      es::Header want = header_of(c["headers"][i]);
      EXPECT_EQ(m.headers[i].name, want.name);
      EXPECT_EQ(m.headers[i].type, want.type) << want.name;
      EXPECT_EQ(m.headers[i].bytes, want.bytes) << want.name;
      EXPECT_EQ(m.headers[i].number, want.number) << want.name;
    }
  }
}

TEST(EventStream, DecoderSplitsAStreamFedByteByByte) {
  std::string all;
  for (int i = 0; i < 3; ++i) {
    es::Message m;
    m.headers.push_back(es::Header::string(":event-type", "E" + std::to_string(i)));
    m.payload = std::string(static_cast<size_t>(i) * 1000, 'p');
    es::append(all, m);
  }
  es::Decoder d;
  std::vector<es::Message> got;
  for (char ch : all) {
    d.feed(std::string_view(&ch, 1));
    while (auto m = d.next()) got.push_back(std::move(*m));
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].header(":event-type")->bytes, "E2");
  EXPECT_EQ(got[2].payload.size(), 2000u);
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_FALSE(d.failed());
}

TEST(EventStream, RefusesCorruptMessages) {
  es::Message m;
  m.headers.push_back(es::Header::string(":message-type", "event"));
  m.payload = "payload";
  const std::string good = es::encode(m);
  es::Message out;
  size_t used = 0;
  std::string error;
  // Every single-bit flip is caught by one of the two CRCs or the length checks.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    EXPECT_NE(es::decode(bad, out, used, &error), es::DecodeStatus::ok) << "byte " << i;
  }
  std::string bad = good;
  bad[bad.size() - 6] ^= 1;  // in the payload: the message CRC
  EXPECT_EQ(es::decode(bad, out, used, &error), es::DecodeStatus::malformed);
  EXPECT_EQ(error, "message CRC mismatch");
  bad = good;
  bad[1] ^= 1;  // in the prelude
  EXPECT_EQ(es::decode(bad, out, used, &error), es::DecodeStatus::malformed);
  EXPECT_EQ(error, "prelude CRC mismatch");
  EXPECT_EQ(es::decode(good.substr(0, good.size() - 1), out, used), es::DecodeStatus::need_more);
  EXPECT_EQ(es::decode(good.substr(0, 5), out, used), es::DecodeStatus::need_more);
  es::Decoder d;
  d.feed(bad);
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.failed());
}

}  // namespace
