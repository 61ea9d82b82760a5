// The producer's settings under the KPL's names, from a kpl.properties file or one by one.
#include "client/producer/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace {

using eddy::producer::ProducerConfig;

TEST(ProducerConfig, DefaultsAreTheKpls) {
  ProducerConfig c;
  EXPECT_EQ(c.record_max_buffered_time.count(), 100);
  EXPECT_TRUE(c.aggregation_enabled);
  EXPECT_EQ(c.aggregation_max_size, 51200u);
  EXPECT_EQ(c.collection_max_count, 500u);
  EXPECT_EQ(c.collection_max_size, 5242880u);
  EXPECT_EQ(c.rate_limit, 150u);
  EXPECT_EQ(c.record_ttl.count(), 30000);
  EXPECT_FALSE(c.fail_if_throttled);
  std::string err;
  EXPECT_TRUE(validate(c, &err)) << err;
}

TEST(ProducerConfig, ReadsAKplPropertiesFile) {
  const auto path = std::filesystem::temp_directory_path() / "eddy-producer-config-test.properties";
  {
    std::ofstream out(path);
    out << "# a KPL properties file\n"
           "RecordMaxBufferedTime = 250\n"
           "AggregationEnabled=false\n"
           "AggregationMaxCount = 1000\n"
           "AggregationMaxSize = 100000\n"
           "CollectionMaxCount = 100\n"
           "CollectionMaxSize = 1048576\n"
           "RateLimit = 80\n"
           "RecordTtl = 60000\n"
           "MaxConnections = 4\n"
           "FailIfThrottled = true\n"
           "Region = us-west-2\n"
           "MetricsLevel = none\n"
           "\n! also a comment\n";
  }
  ProducerConfig c;
  std::string err;
  ASSERT_TRUE(load_config_file(c, path.string(), &err)) << err;
  std::filesystem::remove(path);
  EXPECT_EQ(c.record_max_buffered_time.count(), 250);
  EXPECT_FALSE(c.aggregation_enabled);
  EXPECT_EQ(c.aggregation_max_count, 1000u);
  EXPECT_EQ(c.aggregation_max_size, 100000u);
  EXPECT_EQ(c.collection_max_count, 100u);
  EXPECT_EQ(c.collection_max_size, 1048576u);
  EXPECT_EQ(c.rate_limit, 80u);
  EXPECT_EQ(c.record_ttl.count(), 60000);
  EXPECT_EQ(c.max_connections, 4u);
  EXPECT_TRUE(c.fail_if_throttled);
  EXPECT_TRUE(validate(c, &err)) << err;
}

TEST(ProducerConfig, BadNamesValuesAndRangesAreErrors) {
  ProducerConfig c;
  std::string err;
  EXPECT_FALSE(set_config(c, "NoSuchSetting", "1", &err));
  EXPECT_NE(err.find("NoSuchSetting"), std::string::npos);
  EXPECT_FALSE(set_config(c, "RateLimit", "fast", &err));
  EXPECT_FALSE(set_config(c, "AggregationEnabled", "yes", &err));
  EXPECT_TRUE(set_config(c, "collectionmaxcount", "501", &err));  // names are case-insensitive
  EXPECT_FALSE(validate(c, &err));
  EXPECT_NE(err.find("CollectionMaxCount"), std::string::npos);
  EXPECT_FALSE(load_config_file(c, "/nonexistent/kpl.properties", &err));
}

}  // namespace
