#pragma once
// Where the RocksDB instances this process has open keep their memory (GET /_eddy/memory;
// docs/reliability.md, "Soak"), summed over their column families. Table readers are the open
// tables' index and filter blocks (kept outside the block cache), one set per table file: they
// follow the data held, not time.
#include <cstdint>

namespace eddy::store {

struct StoreMemory {
  uint64_t table_readers = 0;  // rocksdb.estimate-table-readers-mem
  uint64_t memtables = 0;      // rocksdb.cur-size-all-mem-tables
  uint64_t block_cache = 0;    // rocksdb.block-cache-usage (one cache for a store's families)
  uint64_t block_cache_pinned = 0;
  uint64_t table_files = 0;    // live SST files
  uint64_t table_bytes = 0;    // rocksdb.live-sst-files-size
  uint64_t blob_files = 0;
  uint64_t blob_bytes = 0;     // rocksdb.live-blob-file-size
};

// Every open Store's figures, added up (a process normally has one).
StoreMemory open_stores_memory();

}  // namespace eddy::store
