#pragma once
#include <string>

#include "client/kinesis_client.h"
#include "client/producer/transport.h"

// The producer's Transport over eddy_client's KinesisClient (signed, pooled, retried).
namespace eddy::producer {

class KinesisTransport final : public Transport {
 public:
  KinesisTransport(client::KinesisClient& client, std::string stream)
      : client_(client), stream_(std::move(stream)) {}
  ListShardsOutcome list_shards() override;
  PutRecordsOutcome put_records(std::span<const PutEntry> entries) override;

 private:
  client::KinesisClient& client_;
  std::string stream_;
};

}  // namespace eddy::producer
