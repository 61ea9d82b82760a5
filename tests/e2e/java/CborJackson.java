// Kinesis over CBOR 1.1, encoded and decoded by Jackson's CBOR module (jackson-dataformat-cbor), the
// library the AWS Java SDK (v1, and v2 as its shaded copy) uses for Kinesis. Run by
// tests/e2e/test_cbor_jackson.sh against `eddy serve --auth verify --clock manual`:
//   java -cp CLASSES:JACKSON_JARS CborJackson http://127.0.0.1:PORT
// Prints "PASS: ..." and exits 0, or prints "FAIL: ..." and exits 1 at the first wrong answer.
//
// What the SDK does, as read in aws/aws-sdk-java-v2 (core/protocols/aws-cbor-protocol,
// aws-json-protocol, json-utils, protocol-core) and the v1 SDK (com.amazonaws.protocol.json):
// - Requests: POST / with Content-Type application/x-amz-cbor-1.1 and X-Amz-Target
//   Kinesis_20131202.<Op>, written with a plain `new CBORFactory()` generator
//   (SdkStructuredCborFactory). Structures are writeStartObject()/writeFieldName/writeEndObject and
//   lists writeStartArray()/writeEndArray, which Jackson writes as indefinite-length maps/arrays
//   (0xbf/0x9f ... 0xff); strings writeString, integers writeNumber, blobs writeBinary (a definite
//   byte string); timestamps (SdkCborGenerator.writeValue(Instant), v1 writeValue(Date)):
//   writeTag(1) then writeNumber(epoch milliseconds as a long), i.e. tag 1 around an integer
//   count of *milliseconds*, not the seconds RFC 8949 gives tag 1.
// - Responses: payload timestamps default to UNIX_TIMESTAMP_MILLIS for CBOR
//   (AwsCborProtocolFactory.getDefaultTimestampFormats). The parser's token becomes a
//   NumberJsonNode of parser.getText() (JsonValueNodeFactory) and StringToInstant turns it into
//   Instant.ofEpochMilli(Long.parseLong(text)) (DateUtils.parseUnixTimestampMillisInstant); the tag
//   is not looked at, and a float would fail Long.parseLong. v1: new Date(parser.getLongValue())
//   (SimpleTypeCborUnmarshallers.DateCborUnmarshaller). Blobs: v2 takes
//   parser.getEmbeddedObject() (a byte[], i.e. a CBOR byte string) and only base64-decodes
//   when the value is text (JsonProtocolUnmarshaller.unmarshallSdkBytes); v1 getBinaryValue().
// - Errors (non-2xx): the code is the x-amzn-ErrorType header up to its first ':', else the body's
//   "__type" (or "code") with anything before '#' and after ':' cut off (JsonErrorCodeParser);
//   the message is the x-amzn-error-message header, else the body's "message", "Message" or
//   "errorMessage", in that order (AwsJsonErrorMessageParser, SdkJsonErrorMessageParser).
// This program does the same with Jackson's CBORGenerator and CBORParser and checks every value
// eddy answers exactly. Expected shard ids, hash ranges and routing are computed here (MD5 with
// BigInteger), the timestamps come from the manual clock this program sets, and the member names
// are botocore's Kinesis model (data/kinesis/2013-12-02/service-2.json). Requests are SigV4-signed
// here (eddy runs with --auth verify, key test/test), so the signature covers Jackson's bytes.
// Debian ships jackson-dataformat-cbor 2.7.8; the SDK bundles a newer 2.x with the same
// generator/parser API. One difference seen: 2.7.8 reads a 4-byte unsigned integer above
// 2^31-1 (0x1a 80000000..ffffffff) as a negative int (jackson-dataformats-binary issue 30, fixed
// in 2.9); no value this test checks is in that range (epoch milliseconds take 8 bytes).
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import com.fasterxml.jackson.dataformat.cbor.CBORParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

public final class CborJackson {
  static final String CBOR = "application/x-amz-cbor-1.1";
  static final String ACCOUNT = "000000000000";  // eddy's default --account-id
  static final String REGION = "us-east-1";
  // 2100-01-01T00:00:00.123Z: later than any real start time of the manual clock (it only moves
  // forward), with a millisecond part so that a seconds-only timestamp cannot pass.
  static final long T0 = 4102444800123L;

  static final CBORFactory FACTORY = new CBORFactory();  // as SdkStructuredCborFactory
  static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static String base;      // http://127.0.0.1:PORT
  static String hostPort;  // 127.0.0.1:PORT, the Host header HttpClient sends (and we sign)
  static long clockMs;     // eddy's manual clock, kept in step by setClock/advance

  // ---- failures --------------------------------------------------------------------------------

  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(String m) { super(m); }
  }

  static void check(boolean ok, String what) {
    if (!ok) throw new Failure(what);
  }

  static void eq(Object want, Object got, String what) {
    boolean same = want instanceof byte[] && got instanceof byte[]
        ? Arrays.equals((byte[]) want, (byte[]) got) : java.util.Objects.equals(want, got);
    if (!same) throw new Failure(what + ": expected " + show(want) + ", got " + show(got));
  }

  static String show(Object v) {
    if (v instanceof byte[] b) return "bytes[" + b.length + "] " + HexFormat.of().formatHex(b, 0, Math.min(b.length, 32));
    if (v instanceof String s) return '"' + s + '"';
    return String.valueOf(v);
  }

  // ---- request encoding: CBORGenerator, member by member as the SDK's marshaller ----------------

  /** Writes a request value the way the SDK's SdkCborGenerator/SdkJsonGenerator write its type. */
  static void write(CBORGenerator g, Object v) throws IOException {
    if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Integer i) {
      g.writeNumber(i.intValue());
    } else if (v instanceof Long l) {
      g.writeNumber(l.longValue());
    } else if (v instanceof byte[] b) {
      g.writeBinary(b);                      // SdkJsonGenerator.writeValue(ByteBuffer)
    } else if (v instanceof Instant t) {
      g.writeTag(1);                         // SdkCborGenerator.writeValue(Instant)
      g.writeNumber(t.toEpochMilli());
    } else if (v instanceof List<?> list) {
      g.writeStartArray();
      for (Object e : list) write(g, e);
      g.writeEndArray();
    } else if (v instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        g.writeFieldName((String) e.getKey());
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else {
      throw new IllegalArgumentException("no CBOR marshalling for " + v);
    }
  }

  static byte[] encode(Map<String, Object> body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (CBORGenerator g = FACTORY.createGenerator(out)) {
      write(g, body);
    }
    return out.toByteArray();
  }

  /** Ordered map literal: obj("k1", v1, "k2", v2, ...). */
  static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  // ---- response decoding: CBORParser into plain Java values --------------------------------------

  /** A value that carried a CBOR tag; `token`/`text` are what the SDK's parser would see. */
  record Tagged(int tag, Object value, JsonToken token, String text) {}

  static Object read(CBORParser p, JsonToken t) throws IOException {
    int tag = p.getCurrentTag();
    String text = null;
    Object v;
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while ((t = p.nextToken()) != JsonToken.END_OBJECT) {
          check(t == JsonToken.FIELD_NAME, "map key is " + t + ", not a text string");
          String name = p.getCurrentName();
          check(!m.containsKey(name), "duplicate map key " + name);
          m.put(name, read(p, p.nextToken()));
        }
        v = m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) l.add(read(p, t));
        v = l;
      }
      case VALUE_STRING -> v = p.getText();
      case VALUE_NUMBER_INT -> {
        text = p.getText();
        v = p.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        text = p.getText();
        v = p.getDoubleValue();
      }
      case VALUE_EMBEDDED_OBJECT -> v = p.getEmbeddedObject();  // byte[] for a CBOR byte string
      case VALUE_TRUE -> v = Boolean.TRUE;
      case VALUE_FALSE -> v = Boolean.FALSE;
      case VALUE_NULL -> v = null;
      default -> throw new Failure("unexpected CBOR token " + t);
    }
    return tag >= 0 ? new Tagged(tag, v, t, text) : v;
  }

  static Object decode(byte[] body) throws IOException {
    try (CBORParser p = FACTORY.createParser(body)) {
      JsonToken t = p.nextToken();
      check(t != null, "empty CBOR body");
      Object v = read(p, t);
      check(p.nextToken() == null, "trailing data after the CBOR item");
      return v;
    }
  }

  // ---- SDK-style typed reads -----------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  static Map<String, Object> struct(Object v, String what) {
    check(v instanceof Map, what + " is " + show(v) + ", not a CBOR map");
    return (Map<String, Object>) v;
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object v, String what) {
    check(v instanceof List, what + " is " + show(v) + ", not a CBOR array");
    return (List<Object>) v;
  }

  /** A structure with exactly these members (in any order), each a member of the botocore shape. */
  static Map<String, Object> shape(Object v, String what, Set<String> model, String... present) {
    Map<String, Object> m = struct(v, what);
    Set<String> want = new TreeSet<>(Arrays.asList(present));
    for (String k : want) check(model.contains(k), "test bug: " + k + " is not in the model of " + what);
    eq(want, new TreeSet<>(m.keySet()), what + " members");
    return m;
  }

  /** A timestamp member as the SDK reads it; also checks AWS's wire form, tag 1 on an integer. */
  static long sdkInstant(Object v, String what) {
    check(v instanceof Tagged, what + " is " + show(v) + ", not tagged");
    Tagged t = (Tagged) v;
    eq(1, t.tag(), what + " CBOR tag");
    eq(JsonToken.VALUE_NUMBER_INT, t.token(), what + " token (the SDK parses the text with Long.parseLong)");
    long ms = Long.parseLong(t.text());  // v2: DateUtils.parseUnixTimestampMillisInstant
    eq(ms, t.value(), what + " getLongValue (v1) against getText (v2)");
    return ms;
  }

  /** A blob member as the SDK reads it: a CBOR byte string, i.e. getEmbeddedObject() is a byte[]. */
  static byte[] sdkBytes(Object v, String what) {
    check(!(v instanceof String), what + " is a text string; the SDK wants a byte string (it would base64-decode text)");
    check(v instanceof byte[], what + " is " + show(v) + ", not a CBOR byte string");
    return (byte[]) v;
  }

  static long sdkLong(Object v, String what) {
    check(v instanceof Long, what + " is " + show(v) + ", not a CBOR integer");
    return (Long) v;
  }

  // ---- HTTP and SigV4 ---------------------------------------------------------------------------------

  record Answer(int status, String contentType, byte[] raw, Object body, HttpResponse<byte[]> http) {}

  static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  static byte[] hmac(byte[] key, String s) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(key, "HmacSHA256"));
    return mac.doFinal(s.getBytes(StandardCharsets.UTF_8));
  }

  /** SigV4 for kinesis/us-east-1 with the key test/test, at eddy's (manual) clock time. */
  static String authorization(String amzDate, String target, byte[] payload) throws Exception {
    HexFormat hex = HexFormat.of();
    String day = amzDate.substring(0, 8);
    String signed = "content-type;host;x-amz-date;x-amz-target";
    String canonical = "POST\n/\n\n"
        + "content-type:" + CBOR + "\n" + "host:" + hostPort + "\n" + "x-amz-date:" + amzDate + "\n"
        + "x-amz-target:" + target + "\n\n" + signed + "\n" + hex.formatHex(sha256(payload));
    String scope = day + "/" + REGION + "/kinesis/aws4_request";
    String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
        + hex.formatHex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
    byte[] k = hmac(("AWS4" + "test").getBytes(StandardCharsets.UTF_8), day);
    k = hmac(k, REGION);
    k = hmac(k, "kinesis");
    k = hmac(k, "aws4_request");
    return "AWS4-HMAC-SHA256 Credential=test/" + scope + ", SignedHeaders=" + signed
        + ", Signature=" + hex.formatHex(hmac(k, toSign));
  }

  static Answer call(String op, Map<String, Object> request) throws Exception {
    byte[] payload = encode(request);
    // Jackson's writeStartObject() is an indefinite-length map: the shape eddy must read.
    eq((byte) 0xbf, payload[0], op + " request's first byte (Jackson's indefinite-length map)");
    String target = "Kinesis_20131202." + op;
    String amzDate = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC)
        .format(Instant.ofEpochMilli(clockMs));
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/"))
        .header("Content-Type", CBOR)
        .header("X-Amz-Target", target)
        .header("X-Amz-Date", amzDate)
        .header("Authorization", authorization(amzDate, target, payload))
        .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
        .build();
    HttpResponse<byte[]> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofByteArray());
    byte[] raw = resp.body();
    String ctype = resp.headers().firstValue("Content-Type").orElse("");
    check(resp.headers().firstValue("x-amzn-RequestId").isPresent(), op + ": no x-amzn-RequestId header");
    Object body;
    try {
      body = raw.length == 0 ? null : decode(raw);
    } catch (JsonProcessingException e) {
      throw new Failure(op + ": Jackson's CBORParser (the SDK's parser) rejects the response: " + e.getOriginalMessage()
          + " (HTTP " + resp.statusCode() + ", " + raw.length + " bytes: " + show(raw) + ")");
    }
    return new Answer(resp.statusCode(), ctype, raw, body, resp);
  }

  static Map<String, Object> ok(String op, Map<String, Object> request) throws Exception {
    Answer a = call(op, request);
    check(a.status() == 200, op + " answered HTTP " + a.status() + ": " + show(a.body()));
    if (a.raw().length == 0) return new LinkedHashMap<>();
    eq(CBOR, a.contentType(), op + " Content-Type");
    return struct(a.body(), op + " response");
  }

  static String admin(String method, String path, String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
    b = json == null ? b.GET() : b.method(method, HttpRequest.BodyPublishers.ofString(json)).header("Content-Type", "application/json");
    HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    check(r.statusCode() == 200, method + " " + path + " " + json + " answered " + r.statusCode() + ": " + r.body());
    return r.body();
  }

  static void setClock(long ms) throws Exception {
    admin("POST", "/_eddy/clock", "{\"set_ms\": " + ms + "}");
    Matcher m = Pattern.compile("\"now_ms\"\\s*:\\s*(\\d+)").matcher(admin("GET", "/_eddy/clock", null));
    check(m.find(), "GET /_eddy/clock has no now_ms");
    eq(ms, Long.parseLong(m.group(1)), "eddy's manual clock after set_ms");
    clockMs = ms;
  }

  // ---- Kinesis facts computed here, independently of eddy ---------------------------------------------

  static final BigInteger SPACE = BigInteger.ONE.shiftLeft(128);

  static BigInteger[] range(int i, int n) {  // CreateStream's even split of [0, 2^128)
    BigInteger h = SPACE.divide(BigInteger.valueOf(n));
    BigInteger lo = h.multiply(BigInteger.valueOf(i));
    BigInteger hi = i == n - 1 ? SPACE.subtract(BigInteger.ONE) : h.multiply(BigInteger.valueOf(i + 1)).subtract(BigInteger.ONE);
    return new BigInteger[] {lo, hi};
  }

  static int shardOf(BigInteger hashKey, int n) {
    for (int i = 0; i < n; i++) {
      BigInteger[] r = range(i, n);
      if (hashKey.compareTo(r[0]) >= 0 && hashKey.compareTo(r[1]) <= 0) return i;
    }
    throw new IllegalStateException("hash key outside the key space");
  }

  static BigInteger md5Key(String partitionKey) throws Exception {
    return new BigInteger(1, MessageDigest.getInstance("MD5").digest(partitionKey.getBytes(StandardCharsets.UTF_8)));
  }

  static String shardId(int i) {
    return String.format("shardId-%012d", i);
  }

  // ---- the test -----------------------------------------------------------------------------------------

  static final Set<String> SUMMARY_MODEL = Set.of("StreamName", "StreamARN", "StreamId", "StreamStatus",
      "StreamModeDetails", "RetentionPeriodHours", "StreamCreationTimestamp", "EnhancedMonitoring", "EncryptionType",
      "KeyId", "OpenShardCount", "ConsumerCount", "WarmThroughput", "MaxRecordSizeInKiB");
  static final Set<String> SHARD_MODEL = Set.of("ShardId", "ParentShardId", "AdjacentParentShardId", "HashKeyRange",
      "SequenceNumberRange");
  static final Set<String> PUT_RECORD_MODEL = Set.of("ShardId", "SequenceNumber", "EncryptionType");
  static final Set<String> PUT_RECORDS_MODEL = Set.of("FailedRecordCount", "Records", "EncryptionType");
  static final Set<String> PUT_ENTRY_MODEL = Set.of("SequenceNumber", "ShardId", "ErrorCode", "ErrorMessage");
  static final Set<String> RECORD_MODEL = Set.of("SequenceNumber", "ApproximateArrivalTimestamp", "Data",
      "PartitionKey", "EncryptionType");
  static final Set<String> GET_RECORDS_MODEL = Set.of("Records", "NextShardIterator", "MillisBehindLatest",
      "ChildShards");

  /** One record put by this test and where it must come back. */
  record Put(String partitionKey, byte[] data, int shard, String sequenceNumber, long arrivalMs) {}

  static final int SHARDS = 4;
  static final String STREAM = "jackson";

  public static void main(String[] args) throws Exception {
    try {
      run(args[0]);
      System.out.println("PASS: Kinesis CBOR checked with Jackson's CBORGenerator/CBORParser");
    } catch (Failure f) {
      System.err.println("FAIL: " + f.getMessage());
      System.exit(1);
    }
  }

  static void run(String url) throws Exception {
    base = url;
    hostPort = URI.create(url).getAuthority();
    setClock(T0);

    // What Jackson puts on the wire for the SDK's types: tag 1 (0xc1) on an 8-byte unsigned integer
    // (0x1b) of milliseconds, and a definite-length byte string (0x43 = 3 bytes).
    byte[] wire = encode(obj("Timestamp", Instant.ofEpochMilli(T0), "Data", new byte[] {(byte) 0xff, 0, 1}));
    eq("bf6954696d657374616d70c11b" + String.format("%016x", T0) + "6444617461" + "43ff0001" + "ff",
        HexFormat.of().formatHex(wire), "Jackson's encoding of a timestamp and a blob");

    // CreateStream: AWS answers an empty body (200).
    Answer created = call("CreateStream", obj("StreamName", STREAM, "ShardCount", SHARDS));
    eq(200, created.status(), "CreateStream status");
    check(created.raw().length == 0 || struct(created.body(), "CreateStream response").isEmpty(),
        "CreateStream body " + show(created.body()));

    // DescribeStreamSummary: every member exact, the creation time the manual clock's T0 in ms.
    Map<String, Object> s = shape(ok("DescribeStreamSummary", obj("StreamName", STREAM)).get("StreamDescriptionSummary"),
        "StreamDescriptionSummary", SUMMARY_MODEL, "StreamName", "StreamARN", "StreamStatus", "StreamModeDetails",
        "RetentionPeriodHours", "StreamCreationTimestamp", "EnhancedMonitoring", "EncryptionType", "OpenShardCount",
        "ConsumerCount", "MaxRecordSizeInKiB");
    eq(STREAM, s.get("StreamName"), "StreamName");
    eq("arn:aws:kinesis:" + REGION + ":" + ACCOUNT + ":stream/" + STREAM, s.get("StreamARN"), "StreamARN");
    eq("ACTIVE", s.get("StreamStatus"), "StreamStatus (--create-stream-delay-ms defaults to 0)");
    eq(obj("StreamMode", "PROVISIONED"), s.get("StreamModeDetails"), "StreamModeDetails");
    eq(24L, sdkLong(s.get("RetentionPeriodHours"), "RetentionPeriodHours"), "RetentionPeriodHours");
    eq(T0, sdkInstant(s.get("StreamCreationTimestamp"), "StreamCreationTimestamp"), "StreamCreationTimestamp");
    eq(List.of(obj("ShardLevelMetrics", List.of())), s.get("EnhancedMonitoring"), "EnhancedMonitoring");
    eq("NONE", s.get("EncryptionType"), "EncryptionType");
    eq(4L, sdkLong(s.get("OpenShardCount"), "OpenShardCount"), "OpenShardCount");
    eq(0L, sdkLong(s.get("ConsumerCount"), "ConsumerCount"), "ConsumerCount");
    eq(1024L, sdkLong(s.get("MaxRecordSizeInKiB"), "MaxRecordSizeInKiB"), "MaxRecordSizeInKiB (the 1 MiB default)");

    // ListShards: ids, the even split of the key space as decimal strings, open sequence ranges.
    Map<String, Object> ls = ok("ListShards", obj("StreamName", STREAM));
    eq(Set.of("Shards"), ls.keySet(), "ListShards members (no NextToken for 4 shards)");
    List<Object> shards = list(ls.get("Shards"), "Shards");
    eq(SHARDS, shards.size(), "number of shards");
    String[] startSeq = new String[SHARDS];
    for (int i = 0; i < SHARDS; i++) {
      Map<String, Object> sh = shape(shards.get(i), "Shards[" + i + "]", SHARD_MODEL, "ShardId", "HashKeyRange",
          "SequenceNumberRange");
      eq(shardId(i), sh.get("ShardId"), "Shards[" + i + "].ShardId");
      BigInteger[] r = range(i, SHARDS);
      eq(obj("StartingHashKey", r[0].toString(), "EndingHashKey", r[1].toString()), sh.get("HashKeyRange"),
          "Shards[" + i + "].HashKeyRange");
      Map<String, Object> seq = struct(sh.get("SequenceNumberRange"), "SequenceNumberRange");
      eq(Set.of("StartingSequenceNumber"), seq.keySet(), "Shards[" + i + "].SequenceNumberRange members (open shard)");
      startSeq[i] = (String) seq.get("StartingSequenceNumber");
      check(startSeq[i].matches("\\d{56}"), "StartingSequenceNumber " + startSeq[i] + " is not 56 digits");
    }

    List<Put> puts = new ArrayList<>();

    // PutRecord at T0: every byte value (0x80..0xff alone are not UTF-8) plus text.
    byte[] allBytes = new byte[256 + 7];
    for (int i = 0; i < 256; i++) allBytes[i] = (byte) i;
    System.arraycopy("jackson".getBytes(StandardCharsets.US_ASCII), 0, allBytes, 256, 7);
    puts.add(putRecord("pk-0", allBytes));

    // PutRecords at T0 + 1 ms: non-UTF-8 data, a non-ASCII key, a lone NUL byte, 1000 seeded
    // random bytes, and ExplicitHashKey 0 and 2^128-1 (first and last shard).
    setClock(T0 + 1);
    byte[] random = new byte[1000];
    new Random(20131202).nextBytes(random);
    Object[][] batch = {
      {"pk-0", new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xfd}, null},
      {"ключ-ü", new byte[] {(byte) 0xc3, 0x28, (byte) 0xa0, (byte) 0xa1}, null},
      {"pk-nul", new byte[] {0}, null},
      {"pk-random", random, null},
      {"pk-low", "low".getBytes(StandardCharsets.US_ASCII), "0"},
      {"pk-high", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, SPACE.subtract(BigInteger.ONE).toString()},
    };
    List<Object> entries = new ArrayList<>();
    for (Object[] e : batch) {
      Map<String, Object> m = obj("Data", e[1], "PartitionKey", e[0]);
      if (e[2] != null) m.put("ExplicitHashKey", e[2]);
      entries.add(m);
    }
    Map<String, Object> pr = shape(ok("PutRecords", obj("Records", entries, "StreamName", STREAM)), "PutRecords response",
        PUT_RECORDS_MODEL, "FailedRecordCount", "Records", "EncryptionType");
    eq(0L, sdkLong(pr.get("FailedRecordCount"), "FailedRecordCount"), "FailedRecordCount");
    eq("NONE", pr.get("EncryptionType"), "PutRecords EncryptionType");
    List<Object> results = list(pr.get("Records"), "PutRecords Records");
    eq(batch.length, results.size(), "PutRecords result count");
    for (int i = 0; i < batch.length; i++) {
      Map<String, Object> r = shape(results.get(i), "PutRecords Records[" + i + "]", PUT_ENTRY_MODEL, "SequenceNumber",
          "ShardId");
      BigInteger key = batch[i][2] != null ? new BigInteger((String) batch[i][2]) : md5Key((String) batch[i][0]);
      int shard = shardOf(key, SHARDS);
      eq(shardId(shard), r.get("ShardId"), "PutRecords Records[" + i + "].ShardId (key " + batch[i][0] + ")");
      String seq = (String) r.get("SequenceNumber");
      check(seq.matches("\\d{56}") && new BigInteger(seq).compareTo(new BigInteger(startSeq[shard])) >= 0,
          "PutRecords Records[" + i + "].SequenceNumber " + seq);
      puts.add(new Put((String) batch[i][0], (byte[]) batch[i][1], shard, seq, T0 + 1));
    }
    eq(0, shardOf(BigInteger.ZERO, SHARDS), "test bug: ExplicitHashKey 0");

    // PutRecord at T0 + 2 ms, same key as the first.
    setClock(T0 + 2);
    puts.add(putRecord("pk-0", "late".getBytes(StandardCharsets.US_ASCII)));

    // GetShardIterator AT_TIMESTAMP with a CBOR tag-1 timestamp at T0, then GetRecords on every
    // shard: each record this test put, in put order, with Data as a byte string equal to what was
    // put and ApproximateArrivalTimestamp the clock's ms at its put.
    for (int i = 0; i < SHARDS; i++) {
      final int shard = i;
      List<Put> want = puts.stream().filter(p -> p.shard() == shard).toList();
      checkRecords(shard, T0, want);
    }
    int pk0 = puts.get(0).shard();
    List<Put> onPk0 = puts.stream().filter(p -> p.shard() == pk0).toList();
    check(onPk0.size() >= 3, "test bug: pk-0's shard holds " + onPk0.size() + " records");
    // Millisecond-exact: T0 + 1 skips the T0 record, T0 + 2 leaves only the last, T0 + 3 nothing.
    checkRecords(pk0, T0 + 1, onPk0.stream().filter(p -> p.arrivalMs() >= T0 + 1).toList());
    checkRecords(pk0, T0 + 2, onPk0.stream().filter(p -> p.arrivalMs() >= T0 + 2).toList());
    // A timestamp after eddy's now is refused, as AWS does; once the clock reaches it, it reads nothing.
    Answer future = call("GetShardIterator", obj("StreamName", STREAM, "ShardId", shardId(pk0),
        "ShardIteratorType", "AT_TIMESTAMP", "Timestamp", Instant.ofEpochMilli(T0 + 3)));
    sdkError(future, "InvalidArgumentException", "The timestampInMillis parameter cannot be greater than the "
        + "currentTimestampInMillis. timestampInMillis: " + (T0 + 3) + ", currentTimestampInMillis: " + (T0 + 2));
    setClock(T0 + 3);
    checkRecords(pk0, T0 + 3, List.of());

    // An error as the SDK reads it: ResourceNotFoundException for a stream that does not exist.
    sdkError(call("DescribeStreamSummary", obj("StreamName", "jackson-missing")), "ResourceNotFoundException",
        "Stream jackson-missing under account " + ACCOUNT + " not found.");
  }

  /** A 400 error read as the SDK reads it: code from x-amzn-ErrorType or __type, then the message. */
  static void sdkError(Answer err, String type, String message) {
    eq(400, err.status(), type + ": HTTP status");
    eq(CBOR, err.contentType(), type + ": error Content-Type for a CBOR request");
    Map<String, Object> eb = struct(err.body(), type + ": error body");
    eq(Set.of("__type", "message"), eb.keySet(), type + ": error body members");
    String header = err.http().headers().firstValue("x-amzn-ErrorType").orElse(null);
    String code = header != null ? header.split(":", -1)[0] : sdkErrorCode((String) eb.get("__type"));
    eq(type, code, "error code as the SDK parses it (x-amzn-ErrorType " + header + ")");
    eq(type, sdkErrorCode((String) eb.get("__type")), "__type as the SDK parses it");
    String got = err.http().headers().firstValue("x-amzn-error-message").orElse((String) eb.get("message"));
    eq(message, got, type + ": message as the SDK reads it");
  }

  /** JsonErrorCodeParser's rule for "__type": after the first '#', before the first ':'. */
  static String sdkErrorCode(String type) {
    check(type != null, "no __type in the error body");
    int end = type.indexOf(':') >= 0 ? type.indexOf(':') : type.length();
    int hash = type.indexOf('#');
    int start = hash >= 0 && hash + 1 < end ? hash + 1 : 0;
    return type.substring(start, end);
  }

  static Put putRecord(String partitionKey, byte[] data) throws Exception {
    Map<String, Object> r = shape(ok("PutRecord", obj("Data", data, "PartitionKey", partitionKey, "StreamName", STREAM)),
        "PutRecord response", PUT_RECORD_MODEL, "ShardId", "SequenceNumber", "EncryptionType");
    int shard = shardOf(md5Key(partitionKey), SHARDS);
    eq(shardId(shard), r.get("ShardId"), "PutRecord ShardId for key " + partitionKey);
    eq("NONE", r.get("EncryptionType"), "PutRecord EncryptionType");
    String seq = (String) r.get("SequenceNumber");
    check(seq.matches("\\d{56}"), "PutRecord SequenceNumber " + seq + " is not 56 digits");
    return new Put(partitionKey, data, shard, seq, clockMs);
  }

  static void checkRecords(int shard, long atMs, List<Put> want) throws Exception {
    String what = shardId(shard) + " AT_TIMESTAMP " + atMs;
    Map<String, Object> it = ok("GetShardIterator", obj("StreamName", STREAM, "ShardId", shardId(shard),
        "ShardIteratorType", "AT_TIMESTAMP", "Timestamp", Instant.ofEpochMilli(atMs)));
    eq(Set.of("ShardIterator"), it.keySet(), what + ": GetShardIterator members");
    check(it.get("ShardIterator") instanceof String si && !si.isEmpty(), what + ": ShardIterator " + show(it.get("ShardIterator")));
    Map<String, Object> got = shape(ok("GetRecords", obj("ShardIterator", it.get("ShardIterator"), "Limit", 100)),
        what + ": GetRecords response", GET_RECORDS_MODEL, "Records", "NextShardIterator", "MillisBehindLatest");
    eq(0L, sdkLong(got.get("MillisBehindLatest"), "MillisBehindLatest"), what + ": MillisBehindLatest");
    check(got.get("NextShardIterator") instanceof String, what + ": NextShardIterator " + show(got.get("NextShardIterator")));
    List<Object> recs = list(got.get("Records"), "Records");
    eq(want.size(), recs.size(), what + ": number of records");
    for (int i = 0; i < recs.size(); i++) {
      Put p = want.get(i);
      String rw = what + ": Records[" + i + "]";
      Map<String, Object> r = shape(recs.get(i), rw, RECORD_MODEL, "SequenceNumber", "ApproximateArrivalTimestamp",
          "Data", "PartitionKey");
      eq(p.sequenceNumber(), r.get("SequenceNumber"), rw + ".SequenceNumber");
      eq(p.partitionKey(), r.get("PartitionKey"), rw + ".PartitionKey");
      eq(p.data(), sdkBytes(r.get("Data"), rw + ".Data"), rw + ".Data");
      eq(p.arrivalMs(), sdkInstant(r.get("ApproximateArrivalTimestamp"), rw + ".ApproximateArrivalTimestamp"),
          rw + ".ApproximateArrivalTimestamp");
    }
  }
}
