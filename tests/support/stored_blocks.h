#pragma once
// What RocksDB holds for a Kinesis stream: the tests of retention count its record blocks
// (rows of the records family under the stream's id) to see that expired ones are deleted.
#include <gtest/gtest.h>

#include <string>

#include "server/app.h"
#include "server/kinesis/kinesis_service.h"
#include "server/kinesis/stream.h"
#include "server/store/store.h"

namespace eddy::test {

inline size_t stored_blocks(App& app, const std::string& stream) {
  auto s = app.kinesis().find_stream_by_name(stream);
  EXPECT_TRUE(s) << stream;
  if (!s) return 0;
  std::string lo, hi;
  store::put_u32(lo, s->id);
  store::put_u32(hi, s->id + 1);
  size_t n = 0;
  auto it = app.store().iterate(store::Family::records, lo, hi);
  for (it->seek(lo); it->valid(); it->next()) ++n;
  return n;
}

}  // namespace eddy::test
