#pragma once
// Records are stored in blocks: one RocksDB value holds the records one call put into one
// shard (consecutive counters, one arrival time). PutRecords of 500 records over 4 shards is
// then 4 memtable inserts instead of 500, and compaction moves a few large values instead of
// many small ones. Readers see single records through RecordCursor.
//
// Key:   stream id (u32) | shard index (u32) | counter of the block's first record (u64)
// Value: arrival ms (u64) | format (u8) | ...
//   format 1 (block):  count (u32) | count x [key length (u16) | data length (u32) | key | data]
//   format 0 (single record, written by eddy before blocks): key length (u16) | key | data
#include <cstdint>
#include <string>
#include <string_view>

#include "server/store/store.h"

namespace eddy::kinesis {

std::string record_key(uint32_t stream_id, uint32_t shard, uint64_t counter);
// The same 16 bytes into a caller's buffer (no allocation on the PutRecords path).
void record_key_into(char* out, uint32_t stream_id, uint32_t shard, uint64_t counter);

// A block is closed and a new one started (at the next counter) once it holds this many
// bytes, so that reading one record never loads more than about this much.
inline constexpr size_t kRecordBlockTarget = 1 << 20;

// Builds one block value.
class RecordBlockWriter {
 public:
  // Room for a block of `records` records with this many key and data bytes in all.
  void reserve(size_t records, size_t key_and_data_bytes);
  void start(int64_t arrival_ms);
  // Replaces the arrival time given to start().
  void set_arrival(int64_t arrival_ms);
  void add(std::string_view partition_key, std::string_view data);
  uint32_t count() const { return count_; }
  size_t size() const { return value_.size(); }
  // The finished value (count filled in); valid until the next start().
  std::string_view finish();

 private:
  std::string value_;
  uint32_t count_ = 0;
};

struct BlockHeader {
  int64_t arrival_ms = 0;
  uint32_t count = 0;
};
// False for a value that is neither format.
bool parse_block_header(std::string_view value, BlockHeader& out);

struct StoredRecord {
  uint64_t counter = 0;
  int64_t arrival_ms = 0;
  std::string_view partition_key;
  std::string_view data;
};

// Walks single records over an iterator of one shard's blocks (bounded to that shard's
// keys). Corrupt values are skipped. The record's views stay valid until the next call.
class RecordCursor {
 public:
  RecordCursor(store::Iterator& it, uint32_t stream_id, uint32_t shard);
  // The record with the smallest counter >= counter.
  void seek(uint64_t counter);
  void seek_to_first();
  bool valid() const { return valid_; }
  const StoredRecord& record() const { return rec_; }
  void next();
  // The key of the block holding the current record.
  std::string_view block_key() const { return it_.key(); }

 private:
  bool enter_block();  // it_'s value: header and first record; false when unusable
  void settle();       // from it_ onwards, the first usable block
  bool decode();       // the record at pos_

  store::Iterator& it_;
  uint32_t stream_id_;
  uint32_t shard_;
  bool valid_ = false;
  std::string_view value_;
  uint32_t count_ = 0;
  uint32_t index_ = 0;
  size_t pos_ = 0;
  uint8_t format_ = 1;
  StoredRecord rec_;
};

}  // namespace eddy::kinesis
