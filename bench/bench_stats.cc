// File: bench/bench_stats.cc
#include "bench/bench_stats.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"
#include "nlohmann/json.hpp"

namespace wsgate::bench {

using common::Sv;

void Histogram::Record(int64_t ns) {
  uint64_t v = ns < 1 ? 1 : static_cast<uint64_t>(ns);
  int msb = 63 - __builtin_clzll(v);
  int sub = msb >= 5 ? static_cast<int>((v >> (msb - 5)) & 31) : static_cast<int>(v & 31);
  ++counts_[static_cast<size_t>(msb * 32 + sub)];
  ++total_;
  max_ = std::max<uint64_t>(max_, v);
}

void Histogram::Merge(const Histogram& o) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
  total_ += o.total_;
  max_ = std::max(max_, o.max_);
}

uint64_t Histogram::Percentile(double p) const {
  if (total_ == 0) return 0;
  uint64_t want = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= want) {
      int msb = static_cast<int>(i / 32), sub = static_cast<int>(i % 32);
      return msb >= 5 ? (static_cast<uint64_t>(32 + sub) << (msb - 5)) : static_cast<uint64_t>(sub);
    }
  }
  return max_;
}

void ErrorTally::Add(std::string_view cause, uint64_t n) {
  counts_[std::string(cause)] += n;
  total_ += n;
}

void ErrorTally::Merge(const ErrorTally& o) {
  for (const auto& [cause, n] : o.counts_) Add(cause, n);
}

std::vector<std::pair<std::string, uint64_t>> ErrorTally::Sorted() const {
  std::vector<std::pair<std::string, uint64_t>> out(counts_.begin(), counts_.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::string ErrorTally::Summary() const {
  std::string out;
  for (const auto& [cause, n] : Sorted()) absl::StrAppend(&out, out.empty() ? "" : ", ", cause, " x ", n);
  return out;
}

std::string ErrorTally::Json() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [cause, n] : Sorted()) j[cause] = n;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string IoCause(std::string_view op, int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return absl::StrCat(Sv(op), ": ", text);
}

std::string ConnectCause(int error) {
  if (error == ECONNREFUSED) return "connect refused";
  if (error == ETIMEDOUT) return "connect timed out";
  return IoCause("connect", error);
}

std::string UpgradeCause(std::string_view head, bool status_101) {
  if (status_101) return "bad Sec-WebSocket-Accept";
  // "HTTP/1.1 401 Unauthorized": the three digits after the first space.
  size_t sp = head.find(' ');
  if (head.rfind("HTTP/", 0) == 0 && sp != std::string_view::npos && head.size() >= sp + 4) {
    std::string_view code = head.substr(sp + 1, 3);
    if (std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        (head.size() == sp + 4 || head[sp + 4] == ' ' || head[sp + 4] == '\r'))
      return absl::StrCat("HTTP ", Sv(code));
  }
  return "bad upgrade response";
}

bool GeneratorBehind(uint64_t send_lag_p99_ns, uint64_t latency_p99_ns) {
  return send_lag_p99_ns > 100000 && send_lag_p99_ns * 10 > latency_p99_ns;
}

}  // namespace wsgate::bench
