#!/usr/bin/env bash
# Kinesis CBOR 1.1 checked against an independent implementation: Jackson's CBOR module
# (Debian's libjackson2-dataformat-cbor, the library the AWS Java SDK uses for Kinesis CBOR).
# java/CborJackson.java encodes requests with CBORGenerator the way the SDK's marshaller does
# (indefinite-length maps, byte-string blobs, tag 1 around epoch milliseconds), signs them with
# SigV4, and decodes eddy's answers with CBORParser the way the SDK's unmarshaller reads them;
# its header comment says which SDK sources that was read from. eddy runs with a manual clock, so
# every timestamp is asserted exactly. No Maven: javac compiles the one file against the jars.
. "$(dirname "$0")/lib.sh"
require_cmd javac "the JDK: apt-get install default-jdk-headless (listed in .ci/test-packages)"
require_cmd java "the JDK: apt-get install default-jdk-headless (listed in .ci/test-packages)"
JACKSON_CP=/usr/share/java/jackson-dataformat-cbor.jar:/usr/share/java/jackson-core.jar
for jar in ${JACKSON_CP//:/ }; do
  [[ -f "$jar" ]] || fail "$jar is missing: apt-get install libjackson2-dataformat-cbor (listed in .ci/test-packages)"
done

javac -Xlint:all -Werror -d "$E2E_TMP/classes" -cp "$JACKSON_CP" "$E2E_DIR/java/CborJackson.java" ||
  fail "javac could not compile java/CborJackson.java"

start_eddy --in-memory --auth verify --clock manual
java -cp "$E2E_TMP/classes:$JACKSON_CP" CborJackson "$EDDY_URL" || fail "CborJackson failed (see above)"
stop_eddy || fail "eddy exited with status $? after SIGTERM"
