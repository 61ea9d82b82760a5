#pragma once
// The Kinesis API (JSON 1.1 and CBOR 1.1) over the stream model and the record store. The
// implementation is behind a pointer (service_impl.h, ops_*.cpp); hooks.h is what limits/ and
// metrics/ see of it.
#include <memory>
#include <string>
#include <vector>

#include "server/http/message.h"
#include "server/kinesis/hooks.h"

namespace eddy {
class Clock;
struct Config;
namespace store { class Store; }
namespace auth { class Authenticator; }
}  // namespace eddy

namespace eddy::kinesis {

class ServiceImpl;

class KinesisService final : public StreamDirectory {
 public:
  KinesisService(const Config& config, Clock& clock, store::Store& store);
  ~KinesisService();

  // Loads streams from the store. False with a message when the data cannot be read.
  bool load(std::string* error);
  // Requests through dispatch() are authenticated with it (unless it is null or --auth off).
  void set_authenticator(const auth::Authenticator* a);

  // A Kinesis request from the front end: its body is read (16 MiB at most), then it takes
  // the whole pipeline, authentication included.
  http::Dispatch dispatch(http::Request& req);
  // Runs one API call on a fully read request, trusted (no authentication): tests,
  // benchmarks and --seed call it.
  http::Response handle(http::Request& req);

  void add_hooks(KinesisHooks* hooks) override;

  // Deletes records older than each stream's retention (called periodically).
  void trim_expired();

  // Read-only views for admin/metrics.
  std::vector<std::shared_ptr<Stream>> streams_snapshot() const override;
  std::shared_ptr<Stream> find_stream_by_name(const std::string& name) const override;
  // Persists a stream's state (after an admin change such as throttle overrides).
  bool save_stream(const Stream& s);

  const Config& config() const;

 private:
  std::unique_ptr<ServiceImpl> impl_;
};

}  // namespace eddy::kinesis
