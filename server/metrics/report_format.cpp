// Text, CSV and Prometheus renderings of the report JSON (build_report), shared by the server
// endpoints and the `eddy report` client.
#include <cstdio>
#include <sstream>

#include "server/kinesis/stream.h"
#include "server/metrics/report.h"

namespace eddy::metrics {

using nlohmann::json;

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string money(const json& v) { return v.is_number() ? fmt("%.6f", v.get<double>()) : "-"; }

std::string duration(double seconds) {
  auto s = static_cast<long long>(seconds);
  char buf[64];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  return buf;
}

std::string num(const json& v) {
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) return fmt("%.2f", v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_string()) return v.get<std::string>();
  return "";
}

// Columns are padded to their widest cell; the first column is left-aligned.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return {};
  std::vector<size_t> w(rows[0].size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size() && i < w.size(); ++i) {
      std::string pad(w[i] - r[i].size(), ' ');
      if (i) line += "  ";
      line += i == 0 ? r[i] + pad : pad + r[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string csv_cell(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_num(const json& v) {
  if (v.is_number_float()) return fmt("%.9g", v.get<double>());
  return num(v);
}

}  // namespace

std::string render_text(const json& r) {
  std::ostringstream out;
  const json& pr = r.at("pricing");
  out << "eddy cost report (price table: " << pr.value("name", "") << ", " << pr.value("currency", "")
      << "; month = " << num(r.at("month_hours")) << " h)\n\n";
  std::vector<std::vector<std::string>> rows = {
      {"STREAM", "MODE", "SHARDS", "OBSERVED", "PUT CALLS", "RECORDS", "USER RECORDS", "PAYLOAD UNITS", "AGG RATIO",
       "REC/CALL", "PUTS/S/SHARD", "THROTTLED", "COST SO FAR", "MONTH SHARD-H", "MONTH PUT UNITS", "MONTH TOTAL",
       "PER M USER REC"}};
  for (const auto& s : r.at("streams")) {
    const json& c = s.at("cost");
    std::string name = s.at("stream").get<std::string>();
    if (s.value("deleted", false)) name += " (deleted)";
    rows.push_back({name, s.at("mode").get<std::string>(), num(s.at("shards")), duration(s.at("observed_seconds")),
                    num(s.at("put_api_calls")), num(s.at("records")), num(s.at("user_records")),
                    num(s.at("payload_units")), fmt("%.2f", s.at("aggregation_ratio").get<double>()),
                    fmt("%.1f", s.at("records_per_put_records_call").get<double>()),
                    fmt("%.3f", s.at("puts_per_second_per_shard").get<double>()), num(s.at("records_throttled")),
                    money(c.at("so_far").at("total")), money(c.at("projected_month").at("shard_hours")),
                    money(c.at("projected_month").at("put_payload_units")),
                    money(c.at("projected_month").at("total")), money(c.at("per_million_user_records"))});
  }
  if (rows.size() == 1) out << "no streams\n";
  else out << table(rows);

  std::vector<std::string> drops;
  for (const auto& s : r.at("streams")) {
    const json& k = s.at("kpl");
    const uint64_t md5 = k.at("bad_md5"), bad = k.at("unparseable"), mis = k.at("misrouted");
    if (md5 + bad + mis == 0) continue;
    drops.push_back(s.at("stream").get<std::string>() + ": " + std::to_string(md5) + " with a wrong MD5 trailer, " +
                    std::to_string(bad) + " unparseable (a KCL consumer passes these on undecoded), " +
                    std::to_string(mis) + " with a user record outside its shard (a KCL consumer drops these whole)");
  }
  if (!drops.empty()) {
    out << "\nKPL aggregates a KCL consumer would not de-aggregate:\n";
    for (const auto& d : drops) out << "  " << d << "\n";
  }

  std::vector<std::vector<std::string>> efo = {{"STREAM", "EFO CONSUMERS", "CONSUMER-SHARD-H", "EVENTS", "RECORDS",
                                                "BYTES OUT", "EFO COST SO FAR", "EFO MONTH"}};
  for (const auto& s : r.at("streams")) {
    const json& e = s.at("efo");
    if (e.at("consumers").get<uint64_t>() == 0 && e.at("events").get<uint64_t>() == 0) continue;
    const json& c = s.at("cost");
    const double so_far = c.at("so_far").at("efo_consumer_shard_hours").get<double>() +
                          c.at("so_far").at("efo_data_out").get<double>();
    const double month = c.at("projected_month").at("efo_consumer_shard_hours").get<double>() +
                         c.at("projected_month").at("efo_data_out").get<double>();
    efo.push_back({s.at("stream").get<std::string>(), num(e.at("consumers")),
                   fmt("%.3f", e.at("consumer_shard_hours").get<double>()), num(e.at("events")), num(e.at("records")),
                   num(e.at("bytes_out")), money(json(so_far)), money(json(month))});
  }
  if (efo.size() > 1) out << "\nEnhanced fan-out (SubscribeToShard):\n" << table(efo);

  if (!r.at("buckets").empty()) {
    std::vector<std::vector<std::string>> b = {{"BUCKET", "CLASS A REQ", "CLASS B REQ", "BYTES IN", "BYTES OUT",
                                                "OBJECTS", "STORED BYTES", "COST SO FAR", "MONTH TOTAL"}};
    for (const auto& x : r.at("buckets"))
      b.push_back({x.at("bucket").get<std::string>(), num(x.at("class_a_requests")), num(x.at("class_b_requests")),
                   num(x.at("bytes_in")), num(x.at("bytes_out")), num(x.at("stored_objects")),
                   num(x.at("stored_bytes")), money(x.at("cost").at("so_far").at("total")),
                   money(x.at("cost").at("projected_month").at("total"))});
    out << "\n" << table(b);
  }
  out << "\ntotal cost so far " << money(r.at("totals").at("cost_so_far")) << ", projected per month "
      << money(r.at("totals").at("projected_month")) << "\n";
  return out.str();
}

std::string render_csv(const json& r) {
  static const char* kStreamCols[] = {"mode", "shards", "observed_seconds", "put_record_calls", "put_records_calls",
                                      "put_api_calls", "records", "records_failed", "records_throttled",
                                      "user_records", "bytes_in", "payload_units", "aggregation_ratio",
                                      "records_per_put_records_call", "puts_per_second_per_shard",
                                      "get_records_calls", "bytes_out", "iterator_expired"};
  static const char* kBucketCols[] = {"class_a_requests", "class_b_requests", "stored_objects", "stored_bytes"};
  std::ostringstream out;
  out << "kind,name";
  for (const char* c : kStreamCols) out << "," << c;
  out << ",kpl_bad_md5,kpl_unparseable,kpl_misrouted,cost_so_far,cost_so_far_shard_hours,cost_so_far_put_units,"
         "projected_month,projected_month_shard_hours,projected_month_put_units,cost_per_million_user_records";
  for (const char* c : kBucketCols) out << "," << c;
  out << "\r\n";
  for (const auto& s : r.at("streams")) {
    out << "stream," << csv_cell(s.at("stream").get<std::string>());
    for (const char* c : kStreamCols) out << "," << csv_cell(csv_num(s.at(c)));
    const json& k = s.at("kpl");
    const json& cost = s.at("cost");
    out << "," << csv_num(k.at("bad_md5")) << "," << csv_num(k.at("unparseable")) << "," << csv_num(k.at("misrouted"))
        << "," << csv_num(cost.at("so_far").at("total")) << "," << csv_num(cost.at("so_far").at("shard_hours")) << ","
        << csv_num(cost.at("so_far").at("put_payload_units")) << "," << csv_num(cost.at("projected_month").at("total"))
        << "," << csv_num(cost.at("projected_month").at("shard_hours")) << ","
        << csv_num(cost.at("projected_month").at("put_payload_units")) << ","
        << csv_num(cost.at("per_million_user_records"));
    for (size_t i = 0; i < std::size(kBucketCols); ++i) out << ",";
    out << "\r\n";
  }
  for (const auto& b : r.at("buckets")) {
    out << "bucket," << csv_cell(b.at("bucket").get<std::string>());
    for (const char* c : kStreamCols) {
      std::string col = c;
      if (col == "observed_seconds" || col == "bytes_in" || col == "bytes_out") out << "," << csv_num(b.at(c));
      else out << ",";
    }
    out << ",,,," << csv_num(b.at("cost").at("so_far").at("total")) << ",,," 
        << csv_num(b.at("cost").at("projected_month").at("total")) << ",,,";
    for (const char* c : kBucketCols) out << "," << csv_num(b.at(c));
    out << "\r\n";
  }
  return out.str();
}

std::string prometheus_escape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

struct Family {
  std::string name, help, type;
  std::vector<std::pair<std::string, std::string>> samples;  // labels, value
};

void emit(std::ostringstream& out, const Family& f) {
  out << "# HELP " << f.name << " " << f.help << "\n# TYPE " << f.name << " " << f.type << "\n";
  for (const auto& [labels, value] : f.samples) out << f.name << "{" << labels << "} " << value << "\n";
}

std::string value_str(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string stream_label(const std::string& s) { return "stream=\"" + prometheus_escape(s) + "\""; }

}  // namespace

std::string render_prometheus(const MetricsRegistry& registry, const json& report) {
  struct Def {
    Counter c;
    const char* name;
    const char* help;
    bool per_shard;
    const char* extra = nullptr;  // an extra label, e.g. reason="bad_md5"
  };
  static const Def kDefs[] = {
      {Counter::records, "eddy_kinesis_put_records_total", "Kinesis records accepted (each a billed PUT)", true},
      {Counter::user_records, "eddy_kinesis_user_records_total",
       "User records accepted, KPL aggregates counted as the records inside them", true},
      {Counter::bytes_in, "eddy_kinesis_put_bytes_total", "Partition key and data bytes of accepted records", true},
      {Counter::payload_units, "eddy_kinesis_put_payload_units_total",
       "PUT payload units (each record rounded up to the price table's unit)", true},
      {Counter::ingest_rounded_bytes, "eddy_kinesis_on_demand_ingest_bytes_total",
       "Accepted bytes with each record rounded up to 1 KB (on-demand data-in)", true},
      {Counter::kpl_aggregates, "eddy_kinesis_kpl_aggregates_total", "Accepted records carrying the KPL magic prefix",
       true},
      {Counter::kpl_bad_md5, "eddy_kinesis_kpl_undecodable_aggregates_total",
       "KPL aggregates a KCL consumer passes on undecoded", true, "reason=\"bad_md5\""},
      {Counter::kpl_unparseable, "eddy_kinesis_kpl_undecodable_aggregates_total",
       "KPL aggregates a KCL consumer passes on undecoded", true, "reason=\"unparseable\""},
      {Counter::kpl_misrouted, "eddy_kinesis_kpl_misrouted_aggregates_total",
       "KPL aggregates holding a user record outside their shard (a KCL consumer drops them)", true},
      {Counter::get_records_records, "eddy_kinesis_get_records_records_total", "Records returned by GetRecords", true},
      {Counter::bytes_out, "eddy_kinesis_get_records_bytes_total", "Bytes returned by GetRecords", true},
      {Counter::iterator_expired, "eddy_kinesis_iterator_expired_total",
       "GetRecords calls refused with ExpiredIteratorException", true},
      {Counter::efo_events, "eddy_kinesis_subscribe_events_total",
       "SubscribeToShard events sent to enhanced fan-out consumers", true},
      {Counter::efo_records, "eddy_kinesis_subscribe_records_total", "Records sent in SubscribeToShard events", true},
      {Counter::efo_bytes_out, "eddy_kinesis_subscribe_bytes_total",
       "Bytes (partition key + data) sent in SubscribeToShard events (EFO data retrieved)", true},
      {Counter::put_records_entries, "eddy_kinesis_put_records_entries_total",
       "Entries submitted in PutRecords calls", false},
      {Counter::records_failed, "eddy_kinesis_put_records_failed_total",
       "Entries not accepted (throttled ones included), by the shard they were routed to", true},
      {Counter::records_throttled, "eddy_kinesis_put_records_throttled_total",
       "Entries refused with ProvisionedThroughputExceededException, by shard", true},
  };

  const auto counters = registry.stream_counters();
  std::map<std::string, Family> families;
  std::vector<std::string> order;
  auto family = [&](const std::string& name, const std::string& help, const std::string& type) -> Family& {
    auto [it, inserted] = families.try_emplace(name, Family{name, help, type, {}});
    if (inserted) order.push_back(name);
    return it->second;
  };

  Family& calls = family("eddy_kinesis_api_calls_total", "Kinesis data-plane API calls that reached a stream", "counter");
  for (const auto& sc : counters) {
    const std::string sl = stream_label(sc.name);
    const Counters t = sc.total();
    calls.samples.emplace_back(sl + ",operation=\"PutRecord\"",
                               std::to_string(t[static_cast<size_t>(Counter::put_record_calls)]));
    calls.samples.emplace_back(sl + ",operation=\"PutRecords\"",
                               std::to_string(t[static_cast<size_t>(Counter::put_records_calls)]));
    calls.samples.emplace_back(sl + ",operation=\"GetRecords\"",
                               std::to_string(t[static_cast<size_t>(Counter::get_records_calls)]));
  }
  for (const Def& d : kDefs) {
    Family& f = family(d.name, d.help, "counter");
    for (const auto& sc : counters) {
      const std::string sl = stream_label(sc.name);
      const std::string extra = d.extra ? std::string(",") + d.extra : "";
      if (d.per_shard) {
        for (const auto& [shard, c] : sc.shards)
          f.samples.emplace_back(sl + ",shard=\"" + kinesis::Shard::shard_id(shard) + "\"" + extra,
                                 std::to_string(c[static_cast<size_t>(d.c)]));
      } else {
        f.samples.emplace_back(sl + extra, std::to_string(sc.stream[static_cast<size_t>(d.c)]));
      }
    }
  }

  Family& shards = family("eddy_kinesis_open_shards", "Open shards of the stream", "gauge");
  Family& ratio = family("eddy_kinesis_aggregation_ratio", "User records per Kinesis record", "gauge");
  Family& so_far = family("eddy_kinesis_cost_so_far", "Cost since counting started, by component (price table currency)", "gauge");
  Family& month = family("eddy_kinesis_cost_projected_month", "Cost of a 30-day month at the observed rates, by component", "gauge");
  for (const auto& s : report.at("streams")) {
    const std::string sl = stream_label(s.at("stream").get<std::string>());
    shards.samples.emplace_back(sl, value_str(s.at("shards").get<double>()));
    ratio.samples.emplace_back(sl, value_str(s.at("aggregation_ratio").get<double>()));
    for (const char* comp : {"shard_hours", "put_payload_units", "extended_retention", "on_demand_stream_hours",
                             "on_demand_data_in", "on_demand_data_out", "efo_consumer_shard_hours", "efo_data_out",
                             "total"}) {
      so_far.samples.emplace_back(sl + ",component=\"" + comp + "\"",
                                  value_str(s.at("cost").at("so_far").at(comp).get<double>()));
      month.samples.emplace_back(sl + ",component=\"" + comp + "\"",
                                 value_str(s.at("cost").at("projected_month").at(comp).get<double>()));
    }
  }

  Family& s3req = family("eddy_s3_requests_total", "S3 requests by pricing class", "counter");
  Family& s3in = family("eddy_s3_bytes_in_total", "S3 request body bytes received", "counter");
  Family& s3out = family("eddy_s3_bytes_out_total", "S3 response body bytes sent", "counter");
  Family& s3bytes = family("eddy_s3_stored_bytes", "Bytes stored in the bucket", "gauge");
  Family& s3objs = family("eddy_s3_stored_objects", "Objects stored in the bucket", "gauge");
  for (const auto& b : registry.bucket_counters()) {
    const std::string bl = "bucket=\"" + prometheus_escape(b.name) + "\"";
    s3req.samples.emplace_back(bl + ",class=\"A\"", std::to_string(b.class_a));
    s3req.samples.emplace_back(bl + ",class=\"B\"", std::to_string(b.class_b));
    s3req.samples.emplace_back(bl + ",class=\"free\"", std::to_string(b.free_requests));
    s3in.samples.emplace_back(bl, std::to_string(b.bytes_in));
    s3out.samples.emplace_back(bl, std::to_string(b.bytes_out));
    s3bytes.samples.emplace_back(bl, std::to_string(b.stored_bytes));
    s3objs.samples.emplace_back(bl, std::to_string(b.stored_objects));
  }

  std::ostringstream out;
  for (const auto& name : order) emit(out, families[name]);
  out << "# HELP eddy_metrics_epoch_seconds When counting started (first start or last reset), Unix time\n"
         "# TYPE eddy_metrics_epoch_seconds gauge\neddy_metrics_epoch_seconds "
      << value_str(static_cast<double>(report.at("epoch_ms").get<int64_t>()) / 1000.0) << "\n";
  return out.str();
}

}  // namespace eddy::metrics
