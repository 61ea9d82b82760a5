#pragma once
// The Kinesis API (JSON 1.1 and CBOR 1.1) over the stream model and the record store. The
// implementation is behind a pointer (service_impl.h, ops_*.cpp); hooks.h is what limits/ and
// metrics/ see of it.
#include <functional>
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
  // InternalFailure (500) in the request's encoding (JSON unless it asked for CBOR): the
  // front end's answer when a handler threw.
  http::Response internal_failure(const http::Request& req) const;

  void add_hooks(KinesisHooks* hooks) override;

  // Deletes records older than each stream's retention (called periodically).
  void trim_expired();

  // Read-only views for admin/metrics.
  std::vector<std::shared_ptr<Stream>> streams_snapshot() const override;
  std::shared_ptr<Stream> find_stream_by_name(const std::string& name) const override;
  // Applies an admin change (throttle overrides) to a stream, with its lock held, and persists
  // it; a change that cannot be written is undone and false returned.
  bool change_stream(Stream& s, const std::function<void()>& change);

  const Config& config() const;

 private:
  std::unique_ptr<ServiceImpl> impl_;
};

}  // namespace eddy::kinesis
