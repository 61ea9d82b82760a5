#!/usr/bin/env bash
# An old Gradle (4.x) resolves a jar over plain HTTP, anonymously, from the public-read bucket
# that `--seed fixtures/seed` preloads (ivy layout [organisation]/[module]/[revision]/...),
# under eddy's default --auth any. The fetched jar must equal the fixture.
. "$(dirname "$0")/lib.sh"
require_cmd gradle "apt-get install gradle"

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
# The same repository refuses anonymous writes and listing of a private bucket.
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data x "$EDDY_URL/ivy-repo/evil.jar")
[ "$code" = 403 ] || fail "anonymous PUT into a public-read bucket answered $code"
stop_eddy || fail "eddy exited with an error"
echo "PASS"
