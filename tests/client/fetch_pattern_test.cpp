// Ivy pattern expansion for eddy fetch.
#include <gtest/gtest.h>

#include "client/fetch.h"

namespace eddy::client {
namespace {

TEST(IvyPattern, TokensAndOptionalGroups) {
  std::map<std::string, std::string> t = {
      {"organisation", "com.example"}, {"artifact", "greeter"}, {"revision", "1.0.0"}, {"ext", "jar"}};
  std::string why;
  EXPECT_EQ(expand_ivy_pattern("[organisation]/[artifact]-[revision].[ext]", t, &why), "com.example/greeter-1.0.0.jar");
  EXPECT_EQ(
      expand_ivy_pattern("[organisation]/[artifact]/[revision]/[artifact]-[revision](-[classifier]).[ext]", t, &why),
      "com.example/greeter/1.0.0/greeter-1.0.0.jar");
  t["classifier"] = "sources";
  EXPECT_EQ(expand_ivy_pattern("[artifact]-[revision](-[classifier]).[ext]", t, &why), "greeter-1.0.0-sources.jar");
  t.erase("organisation");
  EXPECT_FALSE(expand_ivy_pattern("[organisation]/[artifact].[ext]", t, &why));
  EXPECT_EQ(why, "pattern [organisation]/[artifact].[ext] needs [organisation] (pass --organisation)");
  EXPECT_FALSE(expand_ivy_pattern("(unclosed [artifact]", t, &why));
}

}  // namespace
}  // namespace eddy::client
