// File: engine/admin/exposition.cc
#include "engine/admin/exposition.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::engine::admin {

using common::Sv;

namespace {
// Backslash and newline always; the double quote only inside a label value.
std::string Escape(std::string_view v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char ch : v) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '\n') out += "\\n";
    else if (ch == '"' && quote) out += "\\\"";
    else out += ch;
  }
  return out;
}
}  // namespace

std::string EscapeLabelValue(std::string_view v) { return Escape(v, true); }
std::string EscapeHelp(std::string_view v) { return Escape(v, false); }

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  // The shortest form that reads back the same value.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof(shorter), "%.*g", precision, v);
    if (std::strtod(shorter, nullptr) == v) return shorter;
  }
  return buf;
}

void Exposition::Family(std::string_view name, std::string_view type, std::string_view help) {
  absl::StrAppend(&out_, "# HELP ", Sv(name), " ", EscapeHelp(help), "\n# TYPE ", Sv(name), " ", Sv(type), "\n");
}

void Exposition::AppendLabels(const Labels& labels, std::string_view extra_name, std::string_view extra_value) {
  if (labels.empty() && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    absl::StrAppend(&out_, k, "=\"", EscapeLabelValue(v), "\"");
  }
  if (!extra_name.empty()) {
    if (!first) out_ += ',';
    absl::StrAppend(&out_, Sv(extra_name), "=\"", EscapeLabelValue(extra_value), "\"");
  }
  out_ += '}';
}

void Exposition::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name.data(), name.size());
  AppendLabels(labels);
  absl::StrAppend(&out_, " ", FormatValue(value), "\n");
}

void Exposition::Histogram(std::string_view name, const Labels& labels, const double* upper_bounds,
                           const uint64_t* counts, int n, double sum) {
  uint64_t cumulative = 0;
  for (int i = 0; i <= n; ++i) {
    cumulative += counts[i];
    absl::StrAppend(&out_, Sv(name), "_bucket");
    AppendLabels(labels, "le", i < n ? FormatValue(upper_bounds[i]) : "+Inf");
    absl::StrAppend(&out_, " ", cumulative, "\n");
  }
  absl::StrAppend(&out_, Sv(name), "_sum");
  AppendLabels(labels);
  absl::StrAppend(&out_, " ", FormatValue(sum), "\n", Sv(name), "_count");
  AppendLabels(labels);
  absl::StrAppend(&out_, " ", cumulative, "\n");
}

}  // namespace wsgate::engine::admin
