// S3 storage encodings, naming rules and the XML writer's output parsed back.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "server/s3/s3_internal.h"
#include "server/s3/s3_model.h"

namespace {

using namespace eddy::s3;

TEST(S3Model, BucketNames) {
  for (auto ok : {"abc", "my-bucket", "my.bucket.name", "a1b", "0bucket", "xn-bucket"})
    EXPECT_TRUE(valid_bucket_name(ok)) << ok;
  for (auto bad : {"ab", "ABC", "a_b", "-ab", "ab-", ".ab", "a..b", "a.-b", "a-.b", "192.168.0.1", "xn--abc",
                   "sthree-abc", "abc-s3alias", "abc--ol-s3", "a b"})
    EXPECT_FALSE(valid_bucket_name(bad)) << bad;
  EXPECT_TRUE(valid_bucket_name(std::string(63, 'a')));
  EXPECT_FALSE(valid_bucket_name(std::string(64, 'a')));
}

TEST(S3Model, RecordsRoundTrip) {
  ObjectMeta m;
  m.size = 12345678901ull;
  m.etag = "abc-2";
  m.mtime_ms = 1700000000123;
  m.segments = {{7, 5242880}, {9, 100}};
  m.content = {{"Content-Type", "text/plain"}, {"Cache-Control", std::string("a\0b", 3)}};
  m.user = {{"color", "blue"}};
  m.acl = "public-read";
  m.checksum_algorithm = "CRC32";
  m.checksum_value = "AAAAAA==-2";
  m.checksum_type = "COMPOSITE";
  m.parts = 2;
  auto back = decode_object(encode(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->size, m.size);
  EXPECT_EQ(back->segments.size(), 2u);
  EXPECT_EQ(back->segments[1].blob_id, 9u);
  EXPECT_EQ(back->content, m.content);
  EXPECT_EQ(back->user, m.user);
  EXPECT_EQ(back->checksum_value, m.checksum_value);
  EXPECT_EQ(back->parts, 2u);
  // Truncated or foreign bytes never decode.
  std::string bytes = encode(m);
  for (size_t n = 0; n < bytes.size(); n += 7) EXPECT_FALSE(decode_object(bytes.substr(0, n))) << n;
  EXPECT_FALSE(decode_object("\x02garbage"));

  Bucket b{"bucket", 3, 42, "eu-west-1", "private", "AKID", "Alice", {}, {}};
  auto bb = decode_bucket(encode(b));
  ASSERT_TRUE(bb);
  EXPECT_EQ(bb->id, 3u);
  EXPECT_EQ(bb->region, "eu-west-1");
  EXPECT_EQ(bb->owner_key, "AKID");
  EXPECT_EQ(bb->owner_name, "Alice");
  Bucket with_cors = b;
  with_cors.cors.push_back(CorsRule{"r1", {"GET", "PUT"}, {"*"}, {"x-amz-*"}, {"ETag"}, 600});
  with_cors.cors.push_back(CorsRule{"", {"HEAD"}, {"https://a.example"}, {}, {}, -1});
  auto bc = decode_bucket(encode(with_cors));
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->cors, with_cors.cors);
  EXPECT_EQ(bc->owner_name, "Alice");
  // Rows written before owners were recorded (version 1) still decode, with no owner.
  std::string v1 = encode(b);
  v1[0] = 1;
  v1.resize(v1.size() - 4 - 4 - 5);  // without the display name (and the empty CORS list)
  auto old = decode_bucket(v1);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->owner_key, "AKID");
  EXPECT_EQ(old->owner_name, "");
  ObjectMeta owned = m;
  owned.owner = "AKIDBOB";
  owned.owner_name = "Bob";
  auto ob = decode_object(encode(owned));
  ASSERT_TRUE(ob);
  EXPECT_EQ(ob->owner, "AKIDBOB");
  EXPECT_EQ(ob->owner_name, "Bob");
  // Encryption and tags (version 3); version 2 rows still decode, without them.
  ObjectMeta sealed = owned;
  sealed.sse = Encryption{"aws:kms", "key-1", true, "", "", ""};
  sealed.tags = {{"k", "v"}, {"a", ""}};
  auto os = decode_object(encode(sealed));
  ASSERT_TRUE(os);
  EXPECT_EQ(os->sse, sealed.sse);
  EXPECT_EQ(os->tags, sealed.tags);
  std::string v2 = encode(owned);
  v2[0] = 2;
  v2.resize(v2.size() - (4 + 4 + 4 + 4 + 4 + 4 + 4));  // without the empty encryption and tag fields
  auto o2 = decode_object(v2);
  ASSERT_TRUE(o2);
  EXPECT_EQ(o2->owner_name, "Bob");
  EXPECT_EQ(o2->sse, Encryption{});
  Upload u;
  u.id = "up";
  u.owner = "AKIDBOB";
  u.sse.customer_algorithm = "AES256";
  u.sse.customer_key_digest = std::string(48, 'd');
  u.tags = {{"t", "1"}};
  auto ub = decode_upload(encode(u));
  ASSERT_TRUE(ub);
  EXPECT_EQ(ub->owner, "AKIDBOB");
  EXPECT_EQ(ub->sse, u.sse);
  EXPECT_EQ(ub->tags, u.tags);
  // A bucket's sub-resources, each optional.
  BucketConfig cfg;
  EXPECT_TRUE(cfg.empty());
  cfg.policy = "{}";
  cfg.encryption = Encryption{"AES256", "", false, "", "", ""};
  cfg.tags = Pairs{};
  cfg.public_access_block = PublicAccessBlock{true, false, true, false};
  cfg.ownership = "BucketOwnerEnforced";
  auto cb = decode_bucket_config(encode(cfg));
  ASSERT_TRUE(cb);
  EXPECT_EQ(cb->policy, "{}");
  EXPECT_EQ(cb->encryption, cfg.encryption);
  ASSERT_TRUE(cb->tags);
  EXPECT_TRUE(cb->tags->empty());
  EXPECT_EQ(cb->public_access_block, cfg.public_access_block);
  EXPECT_EQ(cb->ownership, "BucketOwnerEnforced");
  EXPECT_FALSE(decode_bucket_config(encode(cfg).substr(0, 9)));
  Part p{4, 11, 99, "etag", 5, "crc", std::string(16, 'm')};
  auto pb = decode_part(encode(p));
  ASSERT_TRUE(pb);
  EXPECT_EQ(pb->number, 4u);
  EXPECT_EQ(pb->md5, p.md5);
}

TEST(S3Model, KeysSortAsS3Lists) {
  EXPECT_LT(object_key(1, "zzz"), object_key(2, ""));
  EXPECT_LT(object_key(1, "a"), object_key(1, "a/"));
  EXPECT_LT(blob_key(1, 0xffffffff), blob_key(2, 0));
  EXPECT_LT(part_key("id", 2), part_key("id", 10));
  EXPECT_EQ(prefix_successor("a/"), "a0");
  EXPECT_EQ(prefix_successor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xff\xff", 2)), "");
}

TEST(S3Model, XmlOutputParsesBack) {
  XmlOut x("ListBucketResult");
  XmlOut::add(x.root(), "Name", "b&<>\"'");
  auto c = XmlOut::add(x.root(), "Contents");
  XmlOut::add(c, "Key", "a/b c");
  add_owner(c, "AKIDEXAMPLE", "");
  std::string s = x.str();
  EXPECT_EQ(s.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(s.c_str()));
  auto root = doc.document_element();
  EXPECT_STREQ(root.attribute("xmlns").value(), "http://s3.amazonaws.com/doc/2006-03-01/");
  EXPECT_STREQ(root.child("Name").text().get(), "b&<>\"'");
  EXPECT_STREQ(root.child("Contents").child("Key").text().get(), "a/b c");
  EXPECT_EQ(std::string(root.child("Contents").child("Owner").child("ID").text().get()), canonical_id("AKIDEXAMPLE"));
  EXPECT_EQ(canonical_id("AKIDEXAMPLE").size(), 64u);
  EXPECT_NE(canonical_id("AKIDEXAMPLE"), canonical_id("AKIDOTHER"));
  EXPECT_STREQ(root.child("Contents").child("Owner").child("DisplayName").text().get(), "AKIDEXAMPLE");

  // Request bodies are read namespace-agnostically.
  pugi::xml_document req;
  ASSERT_TRUE(req.load_string("<s3:Delete xmlns:s3=\"x\"><s3:Quiet>true</s3:Quiet><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>"));
  EXPECT_EQ(local_name(req.document_element().name()), "Delete");
  EXPECT_EQ(child_text(req.document_element(), "Quiet"), "true");
  EXPECT_EQ(children(req.document_element(), "Object").size(), 1u);
}

TEST(S3Model, EtagsAndTimes) {
  EXPECT_EQ(unquote_etag("\"abc\""), "abc");
  EXPECT_EQ(unquote_etag("abc"), "abc");
  EXPECT_EQ(unquote_etag("&quot;abc&quot;"), "abc");
  EXPECT_EQ(quote_etag("abc"), "\"abc\"");
  EXPECT_EQ(iso8601(1700000000123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(http_date(1700000000123), "Tue, 14 Nov 2023 22:13:20 GMT");
  EXPECT_EQ(url_encode_key("a b/c+d"), "a%20b/c%2Bd");
}

}  // namespace
