// File: engine/admin/exposition.h
//
// A writer for the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure logic: it only builds a
// string. Each family is declared once (# HELP, # TYPE), then its samples follow:
//
//   Exposition out;
//   out.Family("wsgate_engine_frames_total", "counter", "Data frames relayed.");
//   out.Sample("wsgate_engine_frames_total", {{"api", "Chats"}, {"direction", "to_client"}}, 12);
//   out.Histogram("wsgate_engine_handshake_duration_seconds", {}, bounds, counts, 12, sum_s);
//   std::string text = out.Take();
//
// Label values and help text are escaped as the format requires (\\, \", \n in label values;
// \\ and \n in help). Not thread-safe; one per scrape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wsgate::engine::admin {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);
// A sample value: integers without a fraction, others shortest round-trip; NaN, +Inf, -Inf.
std::string FormatValue(double v);

class Exposition {
 public:
  // `type`: "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  // `counts` has n + 1 entries, per bucket (not cumulative), the last one above every bound
  // (+Inf only). Writes the cumulative _bucket lines (le=...), _sum and _count.
  void Histogram(std::string_view name, const Labels& labels, const double* upper_bounds, const uint64_t* counts,
                 int n, double sum);
  std::string Take() { return std::move(out_); }

 private:
  void AppendLabels(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string out_;
};

}  // namespace wsgate::engine::admin
