#include "server/kinesis/codec.h"
#include "server/kinesis/put_fast_parser.h"

#include <gtest/gtest.h>

using namespace eddy::kinesis;
using nlohmann::json;

namespace {
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}
std::string cbor_key(const std::string& k) {
  std::string s;
  s.push_back(static_cast<char>(0x60 | k.size()));
  return s + k;
}
}  // namespace

TEST(KinesisCodec, JsonBodyDecodesBase64Data) {
  json in;
  ApiError err;
  ASSERT_TRUE(decode_body(Encoding::json, R"({"Data":"aGVsbG8=","PartitionKey":"k"})", in, err));
  Reader r(in, Encoding::json);
  EXPECT_EQ(r.blob("Data"), std::optional<std::string>("hello"));
  EXPECT_EQ(r.string("PartitionKey"), std::optional<std::string>("k"));
  EXPECT_FALSE(r.failed());
}

TEST(KinesisCodec, CborBodyDecodesByteStringData) {
  std::string payload = bytes({0x00, 0xff, 0x10, 'a'});
  json req = {{"Data", json::binary({0x00, 0xff, 0x10, 'a'})}, {"PartitionKey", "k"}};
  auto cbor = json::to_cbor(req);
  json in;
  ApiError err;
  ASSERT_TRUE(decode_body(Encoding::cbor, std::string(cbor.begin(), cbor.end()), in, err));
  Reader r(in, Encoding::cbor);
  EXPECT_EQ(r.blob("Data"), std::optional<std::string>(payload));
}

TEST(KinesisCodec, CborTimestampTag1IsEpochMilliseconds) {
  // {"Timestamp": 1(1700000000123)} as the Java SDK writes it.
  std::string body = bytes({0xa1}) + cbor_key("Timestamp") +
                     bytes({0xc1, 0x1b, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b});
  json in;
  ApiError err;
  ASSERT_TRUE(decode_body(Encoding::cbor, body, in, err));
  Reader r(in, Encoding::cbor);
  EXPECT_EQ(r.timestamp("Timestamp"), std::optional<int64_t>(1700000000123));
  // A float under tag 1 is seconds (RFC 8949), as non-Java CBOR writers send it.
  std::string fbody = bytes({0xa1}) + cbor_key("Timestamp") + bytes({0xc1, 0xfb});
  double secs = 1700000000.5;
  uint64_t bits;
  memcpy(&bits, &secs, 8);
  for (int i = 7; i >= 0; --i) fbody.push_back(static_cast<char>(bits >> (8 * i)));
  ASSERT_TRUE(decode_body(Encoding::cbor, fbody, in, err));
  Reader r2(in, Encoding::cbor);
  EXPECT_EQ(r2.timestamp("Timestamp"), std::optional<int64_t>(1700000000500));
}

TEST(KinesisCodec, JsonTimestampIsEpochSecondsFloatOrIso) {
  json in = json::parse(R"({"A":1700000000.123,"B":1700000000,"C":"2023-11-14T22:13:20.250Z","D":"1700000000.5"})");
  Reader r(in, Encoding::json);
  EXPECT_EQ(r.timestamp("A"), std::optional<int64_t>(1700000000123));
  EXPECT_EQ(r.timestamp("B"), std::optional<int64_t>(1700000000000));
  EXPECT_EQ(r.timestamp("C"), std::optional<int64_t>(1700000000250));
  EXPECT_EQ(r.timestamp("D"), std::optional<int64_t>(1700000000500));
}

TEST(KinesisCodec, EncodesResponsesPerEncoding) {
  json out = {{"Data", blob_value(std::string("\x01\x02hi", 4))},
              {"ApproximateArrivalTimestamp", timestamp_value(1700000000123)},
              {"N", 5}};
  EXPECT_EQ(encode_json(out), R"({"ApproximateArrivalTimestamp":1700000000.123,"Data":"AQJoaQ==","N":5})");
  std::string c = encode_cbor(out);
  // A byte string of 4 bytes (major type 2) and tag 1 (0xC1) followed by a uint64 of ms.
  EXPECT_NE(c.find(bytes({0x44, 0x01, 0x02, 'h', 'i'})), std::string::npos);
  EXPECT_NE(c.find(bytes({0xc1, 0x1b, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x7b})), std::string::npos);
  json back;
  ASSERT_TRUE(decode_cbor(c, back));
  EXPECT_EQ(back["ApproximateArrivalTimestamp"], 1700000000123);
  EXPECT_TRUE(back["Data"].is_binary());
  // Milliseconds below 1000 keep their zero padding in JSON.
  EXPECT_EQ(encode_json(json{{"T", timestamp_value(1000005)}}), R"({"T":1000.005})");
}

TEST(KinesisCodec, ErrorsCarryTypeAndTheRightMessageKey) {
  EXPECT_EQ(encode_error(Encoding::json, ApiError::not_found("gone")),
            R"({"__type":"ResourceNotFoundException","message":"gone"})");
  EXPECT_EQ(encode_error(Encoding::json, ApiError::serialization("")), R"({"__type":"SerializationException"})");
  EXPECT_EQ(encode_error(Encoding::json, ApiError::serialization("bad")),
            R"({"__type":"SerializationException","Message":"bad"})");
  json e = json::from_cbor(encode_error(Encoding::cbor, ApiError::validation("v")));
  EXPECT_EQ(e["__type"], "ValidationException");
  EXPECT_EQ(e["message"], "v");
}

TEST(KinesisCodec, MalformedBodiesAreSerializationErrors) {
  json in;
  ApiError err;
  EXPECT_FALSE(decode_body(Encoding::json, "{not json", in, err));
  EXPECT_EQ(err.type, "SerializationException");
  EXPECT_FALSE(decode_body(Encoding::json, "[1,2]", in, err));
  EXPECT_FALSE(decode_body(Encoding::cbor, bytes({0xa1, 0x61}), in, err));  // truncated
  EXPECT_FALSE(decode_body(Encoding::cbor, bytes({0xff}), in, err));
}

TEST(KinesisCodec, TypeErrorsUseAwsWording) {
  json in = json::parse(R"({"S":5,"B":true,"I":"x","L":"y","Bl":7,"Bb":false,"O":{"a":1},"A":[1],"Bad":"a$bc",
                             "Pad":"abd=","Short":"ab=","Bool":"yes","Map":3,"List":"z"})");
  auto msg = [&](auto fn) {
    Reader r(in, Encoding::json);
    fn(r);
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(r.error->type, "SerializationException");
    EXPECT_EQ(r.error->key, ApiError::MessageKey::upper);
    return r.error->message;
  };
  EXPECT_EQ(msg([](Reader& r) { r.string("S"); }), "class java.math.BigDecimal can not be converted to an String");
  EXPECT_EQ(msg([](Reader& r) { r.string("B"); }), "class java.lang.Boolean can not be converted to an String");
  EXPECT_EQ(msg([](Reader& r) { r.integer("I"); }), "class java.lang.String can not be converted to an Integer");
  EXPECT_EQ(msg([](Reader& r) { r.integer("L", true); }), "class java.lang.String can not be converted to an Long");
  EXPECT_EQ(msg([](Reader& r) { r.blob("Bl"); }), "class java.math.BigDecimal can not be converted to a Blob");
  EXPECT_EQ(msg([](Reader& r) { r.blob("Bb"); }), "class java.lang.Boolean can not be converted to a Blob");
  EXPECT_EQ(msg([](Reader& r) { r.string("O"); }), "Start of structure or map found where not expected.");
  EXPECT_EQ(msg([](Reader& r) { r.string("A"); }), "Start of list found where not expected");
  EXPECT_EQ(msg([](Reader& r) { r.blob("Bad"); }), "'a$bc' can not be converted to a Blob: Invalid Base64 character: '$'");
  EXPECT_EQ(msg([](Reader& r) { r.blob("Pad"); }),
            "'abd=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected");
  EXPECT_EQ(msg([](Reader& r) { r.blob("Short"); }),
            "'ab=' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3");
  EXPECT_EQ(msg([](Reader& r) { r.boolean("Bool"); }), "'YES' can not be converted to an Boolean");
  EXPECT_EQ(msg([](Reader& r) { r.object("Map"); }), "Expected map or null");
  EXPECT_EQ(msg([](Reader& r) { r.list("List"); }), "Expected list or null");
  // Absent and null members are simply absent.
  json n = json::parse(R"({"X":null})");
  Reader r(n, Encoding::json);
  EXPECT_FALSE(r.string("X"));
  EXPECT_FALSE(r.string("Y"));
  EXPECT_FALSE(r.failed());
}

TEST(KinesisCodec, CborReaderHandlesEveryItemKindAndRejectsMalformedInput) {
  // {"a": [1, -2, 1.5 (half), true, null, h'0102', "x" (indefinite), 3.25 (float)], "b": 1(5)}
  std::string body = bytes({0xa2, 0x61, 'a', 0x88, 0x01, 0x21, 0xf9, 0x3e, 0x00, 0xf5, 0xf6, 0x42, 0x01, 0x02,
                            0x7f, 0x61, 'x', 0xff, 0xfa, 0x40, 0x50, 0x00, 0x00, 0x61, 'b', 0xc1, 0x05});
  json out;
  ASSERT_TRUE(decode_cbor(body, out));
  EXPECT_EQ(out["a"][0], 1);
  EXPECT_EQ(out["a"][1], -2);
  EXPECT_EQ(out["a"][2], 1.5);
  EXPECT_EQ(out["a"][3], true);
  EXPECT_TRUE(out["a"][4].is_null());
  EXPECT_TRUE(out["a"][5].is_binary());
  EXPECT_EQ(out["a"][6], "x");
  EXPECT_EQ(out["a"][7], 3.25);
  EXPECT_EQ(out["b"], 5);
  // Indefinite map and array.
  ASSERT_TRUE(decode_cbor(bytes({0xbf, 0x61, 'k', 0x9f, 0x01, 0xff, 0xff}), out));
  EXPECT_EQ(out, json::parse(R"({"k":[1]})"));
  for (std::string bad : {bytes({}), bytes({0xa1}), bytes({0xa1, 0x01, 0x01}),           // non-string key
                          bytes({0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),  // huge length
                          bytes({0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}),  // huge array
                          bytes({0x01, 0x02}),                                            // trailing bytes
                          bytes({0x1c}), bytes({0xff}), bytes({0x7f, 0x41, 0x00, 0xff}),  // mixed chunks
                          std::string(100, '\x81')})                                    // too deep
    EXPECT_FALSE(decode_cbor(bad, out)) << bad.size();
}

TEST(KinesisCodec, JsonTimestampWritesMillisecondsAsThreeDecimals) {
  auto ts = [](int64_t ms) {
    std::string o;
    emit::json_timestamp(o, ms);
    return o;
  };
  EXPECT_EQ(ts(1700000000123), "1700000000.123");
  EXPECT_EQ(ts(1700000000005), "1700000000.005");
  EXPECT_EQ(ts(1700000000050), "1700000000.050");
  EXPECT_EQ(ts(1700000000000), "1700000000.000");
  EXPECT_EQ(ts(0), "0.000");
  EXPECT_EQ(ts(999), "0.999");
}

namespace {
// The generic decoder's view of a PutRecords body: (partition key, data, hash key) per entry.
std::vector<std::tuple<std::string, std::string, std::string>> generic_entries(const std::string& body) {
  json in;
  EXPECT_TRUE(decode_cbor(body, in));
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& r : in["Records"]) {
    const auto& bin = r["Data"].get_binary();
    out.emplace_back(r["PartitionKey"].get<std::string>(), std::string(bin.begin(), bin.end()),
                     r.value("ExplicitHashKey", std::string()));
  }
  return out;
}
std::vector<std::tuple<std::string, std::string, std::string>> fast_entries(const FastPut& f) {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& e : f.entries)
    out.emplace_back(std::string(e.partition_key), std::string(e.data), std::string(e.explicit_hash_key.value_or("")));
  return out;
}
}  // namespace

TEST(KinesisCodec, CborPutRecordsFastPathReadsWhatTheGenericDecoderReads) {
  // As nlohmann (and `eddy put`) write it: definite lengths.
  json req = {{"StreamName", "s"},
              {"Records",
               {{{"Data", json::binary({0x00, 0xff, 'a'})}, {"PartitionKey", "k1"}},
                {{"Data", json::binary({})}, {"PartitionKey", "k2"}, {"ExplicitHashKey", "12345"}}}}};
  const auto v = json::to_cbor(req);
  const std::string definite(v.begin(), v.end());
  // As the Java SDK's Jackson generator writes it: indefinite maps and arrays.
  std::string java = bytes({0xbf}) + cbor_key("StreamName") + bytes({0x61, 's'}) + cbor_key("Records") + bytes({0x9f});
  java += bytes({0xbf}) + cbor_key("Data") + bytes({0x43, 0x00, 0xff, 'a'}) + cbor_key("PartitionKey") +
          bytes({0x62, 'k', '1', 0xff});
  java += bytes({0xbf}) + cbor_key("Data") + bytes({0x40}) + cbor_key("PartitionKey") + bytes({0x62, 'k', '2'}) +
          cbor_key("ExplicitHashKey") + bytes({0x65, '1', '2', '3', '4', '5', 0xff});
  java += bytes({0xff, 0xff});
  for (const std::string& body : {definite, java}) {
    FastPut f;
    ASSERT_TRUE(parse_put_fast("PutRecords", true, body, f)) << body.size();
    EXPECT_EQ(f.name, std::optional<std::string_view>("s"));
    EXPECT_EQ(fast_entries(f), generic_entries(body));
    // Data is viewed in the body itself: nothing decoded, nothing copied.
    EXPECT_GE(f.entries[0].data.data(), body.data());
    EXPECT_LT(f.entries[0].data.data(), body.data() + body.size());
    EXPECT_TRUE(f.arena.empty());
  }
  // Whatever else the generic path handles (and words the errors of) is left to it.
  auto with = [&](const json& records) {
    const auto b = json::to_cbor(json{{"StreamName", "s"}, {"Records", records}});
    return std::string(b.begin(), b.end());
  };
  const json data = json::binary({1});
  for (const std::string& body :
       {with({{{"Data", data}, {"PartitionKey", "\xd0\xba"}}}),           // non-ASCII key
        with({{{"Data", data}, {"PartitionKey", "k"}, {"X", "y"}}}),        // unknown member
        with({{{"Data", "AQ=="}, {"PartitionKey", "k"}}}),                 // Data as text
        with({{{"Data", data}, {"PartitionKey", nullptr}}}),               // null
        with({{{"Data", data}}}),                                          // no key
        with({{{"Data", data}, {"PartitionKey", "k"}, {"ExplicitHashKey", "07"}}}),
        with(json::array()),                                               // no entries
        with(json(501, {{"Data", data}, {"PartitionKey", "k"}})),          // too many
        definite + bytes({0x00}),                                          // trailing bytes
        java.substr(0, java.size() - 1),                                   // no final break
        bytes({0xa1}) + cbor_key("Records") + bytes({0x81, 0xa2}) + cbor_key("Data") +
            bytes({0xc2, 0x41, 0x01}) + cbor_key("PartitionKey") + bytes({0x61, 'k'}),  // tagged Data
        bytes({0xa1}) + cbor_key("Records") + bytes({0x81, 0xa2}) + cbor_key("Data") +
            bytes({0x5f, 0x41, 0x01, 0xff}) + cbor_key("PartitionKey") + bytes({0x61, 'k'})}) {  // chunked
    FastPut f;
    EXPECT_FALSE(parse_put_fast("PutRecords", true, body, f)) << body.size();
  }
  // PutRecord: the same members at the top level.
  const auto one = json::to_cbor(json{{"StreamName", "s"}, {"PartitionKey", "k"}, {"Data", data},
                                      {"SequenceNumberForOrdering", "1"}});
  const std::string one_body(one.begin(), one.end());  // the entries view it
  FastPut f;
  ASSERT_TRUE(parse_put_fast("PutRecord", true, one_body, f));
  EXPECT_EQ(f.entries.size(), 1u);
  EXPECT_EQ(f.entries[0].data, "\x01");
  EXPECT_EQ(f.sequence_number_for_ordering, std::optional<std::string_view>("1"));
}
