#include "server/metrics/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "server/kinesis/hooks.h"

namespace eddy::metrics {

using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kHourMs = 3600.0 * 1000.0;
constexpr double kMonthSeconds = kMonthHours * 3600.0;

uint64_t get(const Counters& c, Counter k) { return c[static_cast<size_t>(k)]; }

double overlap_hours(int64_t from, int64_t to, int64_t a, int64_t b) {
  int64_t lo = std::max(from, a), hi = std::min(to, b);
  return hi > lo ? static_cast<double>(hi - lo) / kHourMs : 0.0;
}

json cost_json(double shard_hours, double put_units, double extended, double od_hours, double od_in, double od_out) {
  return json{{"shard_hours", shard_hours},          {"put_payload_units", put_units},
              {"extended_retention", extended},      {"on_demand_stream_hours", od_hours},
              {"on_demand_data_in", od_in},          {"on_demand_data_out", od_out},
              {"efo_consumer_shard_hours", 0.0},     {"efo_data_out", 0.0},
              {"total", shard_hours + put_units + extended + od_hours + od_in + od_out}};
}

// Enhanced fan-out's two charges added to a cost object.
void add_efo(json& cost, double consumer_shard_hours, double data_out) {
  cost["efo_consumer_shard_hours"] = consumer_shard_hours;
  cost["efo_data_out"] = data_out;
  cost["total"] = cost["total"].get<double>() + consumer_shard_hours + data_out;
}

}  // namespace

std::vector<StreamLayout> stream_layouts(const kinesis::StreamDirectory& kinesis) {
  std::vector<StreamLayout> out;
  for (const auto& s : kinesis.streams_snapshot()) {
    StreamLayout l;
    std::lock_guard lk(s->mu);
    l.name = s->name;
    l.on_demand = s->mode == kinesis::StreamMode::on_demand;
    l.retention_hours = s->retention_hours;
    l.created_ms = s->created_ms;
    for (const auto& sh : s->shards) l.shards.push_back(ShardLayout{sh.index, sh.created_ms, sh.closed_ms});
    for (const auto& c : s->consumers) l.consumers_created_ms.push_back(c.created_ms);
    out.push_back(std::move(l));
  }
  return out;
}

json build_report(const MetricsRegistry& registry, const std::vector<StreamLayout>& layouts, int64_t now_ms) {
  const PriceTable& p = registry.prices();
  const int64_t epoch = registry.epoch_ms();
  std::map<std::string, StreamCounters> counters;
  for (auto& c : registry.stream_counters()) counters.emplace(c.name, std::move(c));
  std::map<std::string, const StreamLayout*> live;
  for (const auto& l : layouts) live[l.name] = &l;
  std::vector<std::string> names;
  for (const auto& [n, _] : live) names.push_back(n);
  for (const auto& [n, _] : counters)
    if (!live.count(n)) names.push_back(n);
  std::sort(names.begin(), names.end());

  json streams = json::array();
  double total_so_far = 0, total_month = 0;
  for (const auto& name : names) {
    const StreamLayout* l = live.count(name) ? live[name] : nullptr;
    StreamCounters sc;
    if (auto it = counters.find(name); it != counters.end()) sc = it->second;
    const Counters t = sc.total();
    const bool deleted = !l;
    const int64_t from = l ? std::max(l->created_ms, epoch) : epoch;
    const int64_t to = deleted ? (sc.deleted ? std::max(sc.deleted_ms, from) : from) : std::max(now_ms, from);
    const double observed_s = static_cast<double>(to - from) / 1000.0;
    const double rate_s = std::max(observed_s, 1.0);

    uint32_t open_shards = 0;
    double shard_hours = 0;
    if (l) {
      for (const auto& sh : l->shards) {
        if (!sh.closed_ms) ++open_shards;
        shard_hours += overlap_hours(from, to, sh.created_ms, sh.closed_ms.value_or(to));
      }
    }
    const uint64_t records = get(t, Counter::records), users = get(t, Counter::user_records);
    const uint64_t units = get(t, Counter::payload_units);
    const uint64_t prc = get(t, Counter::put_records_calls);
    const bool on_demand = l && l->on_demand;
    const bool extended = l && l->retention_hours > 24;

    json so_far, month;
    if (on_demand) {
      const double hours = static_cast<double>(to - from) / kHourMs;
      const double in_gb = static_cast<double>(get(t, Counter::ingest_rounded_bytes)) / kGiB;
      const double out_gb = static_cast<double>(get(t, Counter::bytes_out)) / kGiB;
      so_far = cost_json(0, 0, 0, hours * p.on_demand_stream_hour, in_gb * p.on_demand_ingest_per_gb,
                         out_gb * p.on_demand_retrieval_per_gb);
      month = cost_json(0, 0, 0, kMonthHours * p.on_demand_stream_hour,
                        in_gb / rate_s * kMonthSeconds * p.on_demand_ingest_per_gb,
                        out_gb / rate_s * kMonthSeconds * p.on_demand_retrieval_per_gb);
    } else {
      const double unit_cost = p.put_payload_unit_per_million / 1e6;
      so_far = cost_json(shard_hours * p.shard_hour, static_cast<double>(units) * unit_cost,
                         extended ? shard_hours * p.extended_retention_shard_hour : 0, 0, 0, 0);
      if (deleted) {
        month = cost_json(0, 0, 0, 0, 0, 0);
      } else {
        const double month_shard_hours = open_shards * kMonthHours;
        month = cost_json(month_shard_hours * p.shard_hour,
                          static_cast<double>(units) / rate_s * kMonthSeconds * unit_cost,
                          extended ? month_shard_hours * p.extended_retention_shard_hour : 0, 0, 0, 0);
      }
    }
    // Enhanced fan-out: consumer-shard-hours (each registered consumer times each shard open
    // while it was registered; provisioned streams) and the data SubscribeToShard delivered.
    double consumer_shard_hours = 0;
    size_t consumers = 0;
    if (l) {
      consumers = l->consumers_created_ms.size();
      for (int64_t c : l->consumers_created_ms)
        for (const auto& sh : l->shards)
          consumer_shard_hours += overlap_hours(std::max(from, c), to, sh.created_ms, sh.closed_ms.value_or(to));
    }
    const double efo_gb = static_cast<double>(get(t, Counter::efo_bytes_out)) / kGiB;
    const double efo_price = on_demand ? p.on_demand_efo_retrieval_per_gb : p.efo_retrieval_per_gb;
    const double csh_price = on_demand ? 0.0 : p.efo_consumer_shard_hour;
    add_efo(so_far, consumer_shard_hours * csh_price, efo_gb * efo_price);
    if (!deleted)
      add_efo(month, static_cast<double>(consumers * open_shards) * kMonthHours * csh_price,
              efo_gb / rate_s * kMonthSeconds * efo_price);
    else
      add_efo(month, 0, 0);
    total_so_far += so_far["total"].get<double>();
    total_month += month["total"].get<double>();

    json shard_list = json::array();
    std::map<uint32_t, const ShardLayout*> shard_layouts;
    if (l)
      for (const auto& sh : l->shards) shard_layouts[sh.index] = &sh;
    std::map<uint32_t, Counters> per_shard = sc.shards;
    for (const auto& [i, _] : shard_layouts) per_shard.try_emplace(i, Counters{});
    for (const auto& [i, c] : per_shard) {
      auto sl = shard_layouts.find(i);
      const uint64_t r = get(c, Counter::records), u = get(c, Counter::user_records);
      shard_list.push_back(json{
          {"shard", kinesis::Shard::shard_id(i)},
          {"open", sl != shard_layouts.end() && !sl->second->closed_ms},
          {"records", r},
          {"user_records", u},
          {"bytes_in", get(c, Counter::bytes_in)},
          {"payload_units", get(c, Counter::payload_units)},
          {"aggregation_ratio", r ? static_cast<double>(u) / static_cast<double>(r) : 0.0},
          {"puts_per_second", static_cast<double>(r) / rate_s},
          {"records_failed", get(c, Counter::records_failed)},
          {"records_throttled", get(c, Counter::records_throttled)},
          {"kpl_bad_md5", get(c, Counter::kpl_bad_md5)},
          {"kpl_unparseable", get(c, Counter::kpl_unparseable)},
          {"kpl_misrouted", get(c, Counter::kpl_misrouted)},
          {"get_records_calls", get(c, Counter::get_records_calls)},
          {"bytes_out", get(c, Counter::bytes_out)},
          {"iterator_expired", get(c, Counter::iterator_expired)}});
    }

    const double so_far_total = so_far["total"].get<double>();
    streams.push_back(json{
        {"stream", name},
        {"mode", on_demand ? "ON_DEMAND" : "PROVISIONED"},
        {"deleted", deleted},
        {"shards", open_shards},
        {"retention_hours", l ? l->retention_hours : 0},
        {"observed_from_ms", from},
        {"observed_seconds", observed_s},
        {"put_record_calls", get(t, Counter::put_record_calls)},
        {"put_records_calls", prc},
        {"put_api_calls", get(t, Counter::put_record_calls) + prc},
        {"records", records},
        {"records_failed", get(t, Counter::records_failed)},
        {"records_throttled", get(t, Counter::records_throttled)},
        {"user_records", users},
        {"bytes_in", get(t, Counter::bytes_in)},
        {"payload_units", units},
        {"ingest_rounded_bytes", get(t, Counter::ingest_rounded_bytes)},
        {"records_per_put_records_call",
         prc ? static_cast<double>(get(t, Counter::put_records_entries)) / static_cast<double>(prc) : 0.0},
        {"aggregation_ratio", records ? static_cast<double>(users) / static_cast<double>(records) : 0.0},
        {"puts_per_second", static_cast<double>(records) / rate_s},
        {"puts_per_second_per_shard", static_cast<double>(records) / rate_s / std::max<uint32_t>(open_shards, 1)},
        {"user_records_per_second", static_cast<double>(users) / rate_s},
        {"kpl",
         {{"aggregates", get(t, Counter::kpl_aggregates)},
          {"bad_md5", get(t, Counter::kpl_bad_md5)},
          {"unparseable", get(t, Counter::kpl_unparseable)},
          {"misrouted", get(t, Counter::kpl_misrouted)}}},
        {"get_records_calls", get(t, Counter::get_records_calls)},
        {"get_records_records", get(t, Counter::get_records_records)},
        {"bytes_out", get(t, Counter::bytes_out)},
        {"iterator_expired", get(t, Counter::iterator_expired)},
        {"efo",
         {{"consumers", consumers},
          {"consumer_shard_hours", consumer_shard_hours},
          {"events", get(t, Counter::efo_events)},
          {"records", get(t, Counter::efo_records)},
          {"bytes_out", get(t, Counter::efo_bytes_out)}}},
        {"cost",
         {{"so_far", so_far},
          {"projected_month", month},
          {"per_million_user_records",
           users ? json(so_far_total / static_cast<double>(users) * 1e6) : json(nullptr)}}},
        {"shard_list", std::move(shard_list)}});
  }

  json buckets = json::array();
  const double bucket_rate_s = std::max(static_cast<double>(now_ms - epoch) / 1000.0, 1.0);
  for (const auto& b : registry.bucket_counters()) {
    const double gb_months = b.byte_ms / (kGiB * kMonthHours * kHourMs);
    const double a_cost = static_cast<double>(b.class_a) / 1000.0 * p.s3_class_a_per_thousand;
    const double b_cost = static_cast<double>(b.class_b) / 1000.0 * p.s3_class_b_per_thousand;
    const double st_cost = gb_months * p.s3_storage_gb_month;
    const double month_a = a_cost / bucket_rate_s * kMonthSeconds;
    const double month_b = b_cost / bucket_rate_s * kMonthSeconds;
    const double month_st = static_cast<double>(b.stored_bytes) / kGiB * p.s3_storage_gb_month;
    total_so_far += a_cost + b_cost + st_cost;
    total_month += month_a + month_b + month_st;
    buckets.push_back(json{
        {"bucket", b.name},
        {"observed_seconds", static_cast<double>(now_ms - epoch) / 1000.0},
        {"class_a_requests", b.class_a},
        {"class_b_requests", b.class_b},
        {"free_requests", b.free_requests},
        {"bytes_in", b.bytes_in},
        {"bytes_out", b.bytes_out},
        {"stored_bytes", b.stored_bytes},
        {"stored_objects", b.stored_objects},
        {"storage_gb_months", gb_months},
        {"cost",
         {{"so_far", {{"class_a", a_cost}, {"class_b", b_cost}, {"storage", st_cost}, {"total", a_cost + b_cost + st_cost}}},
          {"projected_month",
           {{"class_a", month_a}, {"class_b", month_b}, {"storage", month_st}, {"total", month_a + month_b + month_st}}}}}});
  }

  json prices;
  p.to_json(prices);
  return json{{"generated_ms", now_ms},
              {"epoch_ms", epoch},
              {"month_hours", kMonthHours},
              {"pricing", std::move(prices)},
              {"streams", std::move(streams)},
              {"buckets", std::move(buckets)},
              {"totals", {{"cost_so_far", total_so_far}, {"projected_month", total_month}}}};
}

}  // namespace eddy::metrics
