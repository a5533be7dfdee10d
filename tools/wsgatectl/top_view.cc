// File: tools/wsgatectl/top_view.cc
#include "tools/wsgatectl/top_view.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace wsgate::tools::ctl {
namespace {

// Counts that only grow, for one API or an engine's total.
struct Counts {
  uint64_t upgrades = 0, in = 0, out = 0, throttled = 0, denied = 0, errors = 0;
};

Counts Of(const v1::ApiStats& a) {
  return {a.total_connections(),
          a.client_to_backend().frames(),
          a.backend_to_client().frames(),
          a.client_to_backend().throttled_frames() + a.backend_to_client().throttled_frames(),
          a.client_to_backend().denied_frames() + a.backend_to_client().denied_frames(),
          a.refused_upgrades() + a.error_closes()};
}

Counts Of(const v1::EngineStats& s) {
  uint64_t refused = 0;
  for (const auto& [status, n] : s.handshake_failures()) refused += n;
  auto closes_1011 = s.closes().find("1011");
  return {s.total_connections(),
          s.client_to_backend().frames(),
          s.backend_to_client().frames(),
          s.client_to_backend().throttled_frames() + s.backend_to_client().throttled_frames(),
          s.client_to_backend().denied_frames() + s.backend_to_client().denied_frames(),
          refused + (closes_1011 == s.closes().end() ? 0 : closes_1011->second)};
}

// Adds (now - then) / seconds to the row; a counter that went backwards adds nothing.
void AddRates(TopRow& row, const Counts& now, const Counts& then, double seconds) {
  auto rate = [seconds](uint64_t n, uint64_t t) { return n > t ? static_cast<double>(n - t) / seconds : 0.0; };
  row.new_per_s += rate(now.upgrades, then.upgrades);
  row.in_per_s += rate(now.in, then.in);
  row.out_per_s += rate(now.out, then.out);
  row.throttled_per_s += rate(now.throttled, then.throttled);
  row.denied_per_s += rate(now.denied, then.denied);
  row.errors_per_s += rate(now.errors, then.errors);
}

std::string Rate(double r) { return absl::StrFormat("%.1f", r); }

}  // namespace

TopTable ComputeTop(const v1::GetTrafficResponse& before, const v1::GetTrafficResponse& after) {
  TopTable t;
  t.total.api = "TOTAL";
  std::map<std::string, const v1::EngineTraffic*> earlier;  // by target, those that answered
  for (const auto& e : before.engines())
    if (e.error().empty()) earlier[e.engine()] = &e;
  std::map<std::string, TopRow> rows;  // by "Name:Version"
  for (const auto& e : after.engines()) {
    if (!e.error().empty()) {
      t.unreachable.push_back(absl::StrCat(e.engine(), ": ", e.error()));
      continue;
    }
    ++t.engines_answering;
    const v1::EngineStats& now = e.stats();
    auto it = earlier.find(e.engine());
    const v1::EngineTraffic* then = it == earlier.end() ? nullptr : it->second;
    double seconds = then == nullptr ? 0 : static_cast<double>(e.sampled_unix_ms() - then->sampled_unix_ms()) / 1000;
    bool rates = seconds > 0;
    bool restarted = rates && then->engine_id() != e.engine_id();
    t.seconds = std::max(t.seconds, seconds);
    std::map<std::string, const v1::ApiStats*> earlier_apis;  // by API id
    if (rates && !restarted)
      for (const auto& a : then->stats().apis()) earlier_apis[a.api_id()] = &a;
    t.total.connections += now.active_connections();
    if (rates) AddRates(t.total, Of(now), restarted ? Counts{} : Of(then->stats()), seconds);
    for (const auto& a : now.apis()) {
      TopRow& row = rows[absl::StrCat(a.name(), ":", a.version())];
      row.connections += a.active_connections();
      if (!rates) continue;
      auto was = earlier_apis.find(a.api_id());
      AddRates(row, Of(a), was == earlier_apis.end() ? Counts{} : Of(*was->second), seconds);
    }
  }
  for (auto& [name, row] : rows) {
    row.api = name;
    t.apis.push_back(std::move(row));
  }
  std::stable_sort(t.apis.begin(), t.apis.end(), [](const TopRow& a, const TopRow& b) {
    return a.in_per_s + a.out_per_s > b.in_per_s + b.out_per_s;
  });
  return t;
}

std::string FormatTop(const TopTable& table, int64_t now_unix_ms) {
  size_t width = 24;
  for (const auto& r : table.apis) width = std::max(width, r.api.size() + 2);
  auto line = [width](const TopRow& r) {
    return absl::StrFormat("%-*s%8d%9s%11s%11s%13s%10s%10s\n", static_cast<int>(width), r.api, r.connections,
                           Rate(r.new_per_s), Rate(r.in_per_s), Rate(r.out_per_s), Rate(r.throttled_per_s),
                           Rate(r.denied_per_s), Rate(r.errors_per_s));
  };
  std::string out = absl::StrCat(
      "wsgate top  ", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(now_unix_ms), absl::UTCTimeZone()),
      "  ", table.engines_answering, table.engines_answering == 1 ? " engine" : " engines",
      absl::StrFormat(", rates over %.1f s\n", table.seconds));
  out += absl::StrFormat("%-*s%8s%9s%11s%11s%13s%10s%10s\n", static_cast<int>(width), "API", "CONNS", "NEW/s",
                         "IN/s", "OUT/s", "THROTTLED/s", "DENIED/s", "ERRORS/s");
  for (const auto& r : table.apis) out += line(r);
  out += line(table.total);
  for (const auto& u : table.unreachable) absl::StrAppend(&out, "engine not answering: ", u, "\n");
  return out;
}

}  // namespace wsgate::tools::ctl
