#!/usr/bin/env bash
# An old Gradle (4.x) resolves a jar over plain HTTP, anonymously, from the public-read bucket
# that `--seed fixtures/seed` preloads (ivy layout [organisation]/[module]/[revision]/...),
# under eddy's default --auth any. The fetched jar must equal the fixture.
. "$(dirname "$0")/lib.sh"
require_cmd gradle "apt-get install gradle"
require_cmd aws "pip install awscli"

start_eddy --in-memory --seed "$EDDY_SOURCE_DIR/fixtures/seed"
P="$E2E_TMP/gradle-project"
mkdir -p "$P"
cat >"$P/build.gradle" <<GRADLE
apply plugin: 'java'
repositories {
  ivy {
    url "$EDDY_URL/ivy-repo"
    layout 'pattern', {
      artifact '[organisation]/[module]/[revision]/[artifact]-[revision].[ext]'
      ivy '[organisation]/[module]/[revision]/ivy-[revision].xml'
    }
  }
}
configurations { fetch }
dependencies { fetch 'com.example:greeter:1.1.0' }
task fetchJars(type: Copy) {
  from configurations.fetch
  into "\$buildDir/fetched"
}
GRADLE
echo "rootProject.name = 'eddy-fetch'" >"$P/settings.gradle"
(cd "$P" && gradle -q --no-daemon -g "$E2E_TMP/gradle-home" fetchJars) >"$E2E_TMP/gradle.log" 2>&1 ||
  fail "gradle could not resolve from eddy: $(tail -20 "$E2E_TMP/gradle.log")"
cmp "$P/build/fetched/greeter-1.1.0.jar" "$EDDY_SOURCE_DIR/fixtures/ivy-repo/com.example/greeter/1.1.0/greeter-1.1.0.jar" ||
  fail "fetched jar differs from the fixture"
# The same repository refuses anonymous writes; public-read lets anyone list it, while a private
# bucket (created with the test credentials) refuses an anonymous listing.
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "$EDDY_URL/ivy-repo/evil.jar")
[ "$code" = 403 ] || fail "anonymous PUT into a public-read bucket answered $code"
code=$(curl -s -o "$E2E_TMP/list.xml" -w '%{http_code}' "$EDDY_URL/ivy-repo?list-type=2&prefix=com.example/greeter/")
[ "$code" = 200 ] && grep -q '<Key>com.example/greeter/1.1.0/greeter-1.1.0.jar</Key>' "$E2E_TMP/list.xml" ||
  fail "anonymous listing of the public-read bucket answered $code: $(head -c 400 "$E2E_TMP/list.xml")"
aws --endpoint-url "$EDDY_URL" s3api create-bucket --bucket private-b >/dev/null || fail "create-bucket private-b failed"
code=$(curl -s -o "$E2E_TMP/deny.xml" -w '%{http_code}' "$EDDY_URL/private-b?list-type=2")
[ "$code" = 403 ] && grep -q '<Code>AccessDenied</Code>' "$E2E_TMP/deny.xml" ||
  fail "anonymous listing of a private bucket answered $code: $(head -c 400 "$E2E_TMP/deny.xml")"
stop_eddy || fail "eddy exited with an error"
echo "PASS"
