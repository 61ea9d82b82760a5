#include "server/admin/admin.h"

#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "server/app.h"
#include "server/http/server.h"
#include "server/kinesis/kinesis_service.h"
#include "server/router.h"
#include "server/store/memory.h"
#include "server/store/store.h"

namespace eddy::admin {

using nlohmann::json;

http::Response response(int status, const std::string& content_type, const std::string& body) {
  http::Response res;
  res.status = status;
  res.headers.add("Content-Type", content_type);
  res.body = body;
  return res;
}

http::Response json_response(int status, const std::string& body) { return response(status, "application/json", body); }

void register_endpoints(Router& router, App& app) {
  router.add_admin("/_eddy/health", [&app](http::Request& req) -> http::Dispatch {
    if (req.path != "/_eddy/health") return http::Immediate{json_response(404, "{\"error\":\"no such admin endpoint\"}\n")};
    if (req.method != "GET" && req.method != "HEAD")
      return http::Immediate{json_response(405, "{\"error\":\"use GET\"}\n")};
    // "degraded": eddy answers, but storage is in error (a full disk: writes are refused,
    // reads go on) - docs/reliability.md, "Full disk".
    const auto sh = app.store().health();
    json j = {{"status", sh.ok ? "ok" : "degraded"},
              {"version", EDDY_VERSION},
              {"storage", app.config().in_memory ? "memory" : "rocksdb"},
              {"clock", app.clock().is_manual() ? "manual" : "system"},
              {"now_ms", app.clock().now_ms()},
              {"streams", app.kinesis().streams_snapshot().size()}};
    if (!sh.ok) j["reason"] = sh.reason;
    if (sh.errors) j["storage_errors"] = {{"errors", sh.errors}, {"recoveries", sh.recoveries}};
    if (const http::Server* server = app.server())
      j["connections"] = {{"open", server->open_connections()},
                          {"max", app.max_connections()},
                          {"refused", server->refused_connections()}};
    return http::Immediate{json_response(200, j.dump() + "\n")};
  });
  // Where the process's memory goes (docs/reliability.md, "Soak"): RSS, RocksDB's parts and the
  // allocator's view (mallinfo2: bytes in use, and bytes free but kept).
  router.add_admin("/_eddy/memory", [&app](http::Request& req) -> http::Dispatch {
    if (req.path != "/_eddy/memory") return http::Immediate{json_response(404, "{\"error\":\"no such admin endpoint\"}\n")};
    if (req.method != "GET" && req.method != "HEAD")
      return http::Immediate{json_response(405, "{\"error\":\"use GET\"}\n")};
    uint64_t pages = 0, resident = 0;
    std::ifstream("/proc/self/statm") >> pages >> resident;
    const auto sm = store::open_stores_memory();
    const struct mallinfo2 mi = mallinfo2();
    json j = {{"rss", resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE))},
              {"rocksdb",
               {{"table_readers", sm.table_readers}, {"memtables", sm.memtables}, {"block_cache", sm.block_cache},
                {"block_cache_pinned", sm.block_cache_pinned}, {"table_files", sm.table_files},
                {"table_bytes", sm.table_bytes}, {"blob_files", sm.blob_files}, {"blob_bytes", sm.blob_bytes}}},
              {"malloc",
               {{"in_use", mi.uordblks + mi.hblkhd}, {"mmapped", mi.hblkhd}, {"heap", mi.arena},
                {"heap_free", mi.fordblks}, {"releasable", mi.keepcost}}}};
    return http::Immediate{json_response(200, j.dump() + "\n")};
  });
}

}  // namespace eddy::admin
