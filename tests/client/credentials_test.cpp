// The credentials chain and region resolution in the AWS order, from an injected environment
// and real files in a temporary directory (IMDS: tests/api/client_imds_test.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "client/credentials.h"

namespace eddy::client {
namespace {

namespace fs = std::filesystem;

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("eddy-creds-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // An environment with the files in dir_ and IMDS switched off, plus `extra`.
  Environment env(std::vector<std::pair<std::string, std::string>> extra = {}) {
    extra.emplace_back("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "credentials").string());
    extra.emplace_back("AWS_CONFIG_FILE", (dir_ / "config").string());
    extra.emplace_back("AWS_EC2_METADATA_DISABLED", "true");
    extra.emplace_back("HOME", dir_.string());
    return map_environment(extra);
  }
  fs::path dir_;
};

TEST_F(CredentialsTest, EnvironmentWithSessionToken) {
  EnvironmentCredentialsProvider p(
      env({{"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", "sk"}, {"AWS_SESSION_TOKEN", "tok"}}));
  std::string why;
  auto c = p.get(&why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(c->keys.access_key_id, "AKENV");
  EXPECT_EQ(c->keys.secret_access_key, "sk");
  EXPECT_EQ(c->keys.session_token, "tok");
  EXPECT_EQ(c->source, "environment");
  EXPECT_FALSE(c->expiration);

  EnvironmentCredentialsProvider half(env({{"AWS_ACCESS_KEY_ID", "AKENV"}}));
  EXPECT_FALSE(half.get(&why));
  EXPECT_EQ(why, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
}

TEST_F(CredentialsTest, EnvironmentBeatsFiles) {
  write("credentials", "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = skfile\n");
  auto chain = default_credentials_chain(env({{"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", "sk"}}));
  std::string why;
  auto c = chain->get(&why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(c->keys.access_key_id, "AKENV");
}

TEST_F(CredentialsTest, CredentialsFileThenConfigFileWithAwsProfile) {
  write("credentials",
        "# comment\n[default]\naws_access_key_id=AKDEF\naws_secret_access_key=skdef\n\n"
        "[ci]\naws_access_key_id = AKCI ; inline comment\naws_secret_access_key = sk/ci+1\naws_session_token = tci\n");
  write("config",
        "[default]\nregion = eu-west-1\n[profile ci]\nregion = ap-south-1\ns3 =\n  addressing_style = path\n"
        "[profile only-config]\naws_access_key_id = AKCFG\naws_secret_access_key = skcfg\nregion=us-west-2\n"
        "[sso-session only-config]\naws_access_key_id = WRONG\n");
  std::string why;
  {
    auto chain = default_credentials_chain(env());
    auto c = chain->get(&why);
    ASSERT_TRUE(c) << why;
    EXPECT_EQ(c->keys.access_key_id, "AKDEF");
    EXPECT_EQ(c->source, "shared-credentials-file");
  }
  {
    auto chain = default_credentials_chain(env({{"AWS_PROFILE", "ci"}}));
    auto c = chain->get(&why);
    ASSERT_TRUE(c) << why;
    EXPECT_EQ(c->keys.access_key_id, "AKCI");
    EXPECT_EQ(c->keys.secret_access_key, "sk/ci+1");
    EXPECT_EQ(c->keys.session_token, "tci");
  }
  {
    auto chain = default_credentials_chain(env({{"AWS_PROFILE", "only-config"}}));
    auto c = chain->get(&why);
    ASSERT_TRUE(c) << why;
    EXPECT_EQ(c->keys.access_key_id, "AKCFG");
    EXPECT_EQ(c->source, "config-file");
  }
  // Region: flag, AWS_REGION, AWS_DEFAULT_REGION, the profile.
  EXPECT_EQ(resolve_region("", env()), "eu-west-1");
  EXPECT_EQ(resolve_region("", env({{"AWS_PROFILE", "ci"}})), "ap-south-1");
  EXPECT_EQ(resolve_region("", env({{"AWS_PROFILE", "only-config"}})), "us-west-2");
  EXPECT_EQ(resolve_region("", env({{"AWS_DEFAULT_REGION", "sa-east-1"}})), "sa-east-1");
  EXPECT_EQ(resolve_region("", env({{"AWS_REGION", "ca-central-1"}, {"AWS_DEFAULT_REGION", "sa-east-1"}})),
            "ca-central-1");
  EXPECT_EQ(resolve_region("me-south-1", env({{"AWS_REGION", "ca-central-1"}})), "me-south-1");
  EXPECT_EQ(resolve_region("", env(), "only-config"), "us-west-2");
}

TEST_F(CredentialsTest, ExplicitProfileSkipsTheEnvironment) {
  write("credentials", "[ci]\naws_access_key_id = AKCI\naws_secret_access_key = skci\n");
  auto e = env({{"AWS_ACCESS_KEY_ID", "AKENV"}, {"AWS_SECRET_ACCESS_KEY", "sk"}});
  std::string why;
  auto c = default_credentials_chain(e, "ci")->get(&why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(c->keys.access_key_id, "AKCI");
}

TEST_F(CredentialsTest, HomeDirectoryDefaults) {
  fs::create_directories(dir_ / ".aws");
  write(".aws/credentials", "[default]\naws_access_key_id = AKHOME\naws_secret_access_key = skhome\n");
  std::string why;
  auto c = default_credentials_chain(map_environment({{"HOME", dir_.string()}, {"AWS_EC2_METADATA_DISABLED", "true"}}))
               ->get(&why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(c->keys.access_key_id, "AKHOME");
}

TEST_F(CredentialsTest, NothingFoundNamesEverySource) {
  std::string why;
  EXPECT_FALSE(default_credentials_chain(env())->get(&why));
  EXPECT_NE(why.find("AWS_ACCESS_KEY_ID is not set"), std::string::npos) << why;
  EXPECT_NE(why.find("no profile default in"), std::string::npos) << why;
  EXPECT_NE(why.find("AWS_EC2_METADATA_DISABLED"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);
}

TEST_F(CredentialsTest, PartialKeysInAProfileAreAnError) {
  write("credentials", "[default]\naws_access_key_id = AKONLY\n");
  ProfileCredentialsProvider p(env());
  std::string why;
  EXPECT_FALSE(p.get(&why));
  EXPECT_NE(why.find("only one of aws_access_key_id and aws_secret_access_key"), std::string::npos) << why;
}

TEST_F(CredentialsTest, ImdsUnreachableFailsWithinItsTimeout) {
  // Port 1 on loopback refuses at once: the chain reports the IMDS failure, no hang.
  ImdsCredentialsProvider p(map_environment({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"}}));
  std::string why;
  EXPECT_FALSE(p.get(&why));
  EXPECT_NE(why.find("instance metadata at http://127.0.0.1:1"), std::string::npos) << why;
}

}  // namespace
}  // namespace eddy::client
