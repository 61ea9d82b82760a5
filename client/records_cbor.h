#pragma once
// GetRecords in CBOR (application/x-amz-cbor-1.1, the encoding the AWS Java SDK and the KCL use):
// no base64 on either side, and the answer read in place. Each record's sequence number,
// partition key and data are views into the response body, so a 10 MiB answer is neither
// copied nor decoded. `eddy tail` reads with it; KinesisClient::get_records stays the JSON form.
#include <string>
#include <string_view>

#include "client/kinesis_client.h"

namespace eddy::client {

// Reads a GetRecords answer (CBOR) into out, replacing what it held (its vectors keep their
// capacity). The records view `body`, which must outlive them; a chunked (indefinite-length)
// string, which cannot be a view, is joined in out.arena. Unknown members are skipped, null ones
// are absent, tags are looked through (ApproximateArrivalTimestamp is tag 1 with epoch
// milliseconds). False with *error for anything malformed: truncated, a wrong type, a break out
// of place, nesting deeper than 32.
bool parse_get_records_cbor(std::string_view body, GetRecordsResult& out, std::string* error);

// The GetRecords call in CBOR through session at endpoint, its answer read into resp (reuse it
// between calls: the body keeps its capacity) and parsed into out: out's views point into
// resp.body and live until resp is used again. False with *error (AWS's code and message, read
// from the CBOR error body) when the call fails.
bool get_records_cbor(Session& session, const Url& endpoint, const std::string& shard_iterator, int limit,
                      HttpResponse& resp, GetRecordsResult& out, AwsError* error);

}  // namespace eddy::client
