// File: agent/settings.cc — the settings table and its unit parsing (see settings.h).
#include "agent/settings.h"

#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/status_macros.h"

namespace wsgate::agent::settings {
namespace {

constexpr uint64_t kMs = 1, kS = 1000, kMin = 60 * kS, kHour = 60 * kMin;
constexpr uint64_t kKiB = 1024, kMiB = 1024 * kKiB, kGiB = 1024 * kMiB;

// Accessors of one EngineSettings field (get: 0 = unset; set(0) clears it).
#define WSGATE_ENGINE_FIELD(field)                                                            \
  [](const v1::EnvironmentSettings& s) -> uint64_t { return s.settings().field(); },         \
      [](v1::EnvironmentSettings& s, uint64_t v) {                                            \
        s.mutable_settings()->set_##field(static_cast<decltype(s.settings().field())>(v));   \
      }

const std::vector<Key>* BuildTable() {
  return new std::vector<Key>{
      {"max_header_bytes", Kind::kSize, 1 * kKiB, 1 * kMiB, 16 * kKiB,
       "largest upgrade request head (request line + headers); larger -> 431",
       WSGATE_ENGINE_FIELD(max_header_bytes)},
      {"handshake_timeout", Kind::kDuration, 100 * kMs, 5 * kMin, 10 * kS,
       "the client's upgrade request must arrive within it; else 408", WSGATE_ENGINE_FIELD(handshake_timeout_ms)},
      {"connect_timeout", Kind::kDuration, 100 * kMs, 5 * kMin, 10 * kS,
       "upstream TCP connect + handshake; else 504 (an API's endpoint may override it)",
       WSGATE_ENGINE_FIELD(upstream_connect_timeout_ms)},
      {"max_message_bytes", Kind::kSize, 1 * kKiB, 1 * kGiB, 16 * kMiB,
       "largest WebSocket message; larger -> close 1009 (an API may override it)",
       WSGATE_ENGINE_FIELD(max_message_bytes)},
      {"queue_bytes", Kind::kSize, 16 * kKiB, 1 * kGiB, 1 * kMiB,
       "bytes queued per direction before the engine stops reading the other side", WSGATE_ENGINE_FIELD(queue_bytes)},
      {"ping_interval", Kind::kDuration, 1 * kS, 1 * kHour, 30 * kS, "ping a client idle this long",
       WSGATE_ENGINE_FIELD(ping_interval_ms)},
      {"pong_timeout", Kind::kDuration, 1 * kS, 1 * kHour, 30 * kS, "close a client whose pong is this late",
       WSGATE_ENGINE_FIELD(pong_timeout_ms)},
      {"close_timeout", Kind::kDuration, 100 * kMs, 5 * kMin, 5 * kS,
       "how long a close handshake may take before the socket is dropped", WSGATE_ENGINE_FIELD(close_timeout_ms)},
      {"drain_timeout", Kind::kDuration, 1 * kS, 1 * kHour, 30 * kS,
       "on SIGTERM, how long live sessions may finish before they are closed", WSGATE_ENGINE_FIELD(drain_timeout_ms)},
      {"max_connections", Kind::kCount, 1, 10'000'000, 0,
       "live client connections per engine (all shards); default: derived from the fd limit",
       WSGATE_ENGINE_FIELD(max_connections)},
      {"clock_skew", Kind::kDuration, 1 * kS, 10 * kMin, 30 * kS, "tolerance for a token's exp and nbf",
       [](const v1::EnvironmentSettings& s) -> uint64_t { return s.clock_skew_s(); },
       [](v1::EnvironmentSettings& s, uint64_t v) { s.set_clock_skew_s(static_cast<uint32_t>(v)); }, kS},
      // Admission and connection lifetime (issue 15); a default of 0 is "no limit".
      {"max_connections_per_address", Kind::kCount, 1, 10'000'000, 0,
       "concurrent connections per client address (IPv4 address, IPv6 /64) per engine; more get 429",
       WSGATE_ENGINE_FIELD(max_connections_per_address)},
      {"idle_timeout", Kind::kDuration, 100 * kMs, 7 * 24 * kHour, 0,
       "close 1001 a connection with no data frame either way for this long (an API may override it)",
       WSGATE_ENGINE_FIELD(idle_timeout_ms)},
      {"max_lifetime", Kind::kDuration, 100 * kMs, 7 * 24 * kHour, 0,
       "close 1001 a connection this old (an API may override it)", WSGATE_ENGINE_FIELD(max_lifetime_ms)},
      {"drain_close_code", Kind::kCount, 1001, 4999, 1012,
       "the close code a drain sends clients: 1001, 1012-1014 or 4000-4999", WSGATE_ENGINE_FIELD(drain_close_code)},
      {"handshake_rate_per_address", Kind::kCount, 1, 1'000'000, 0,
       "new connections per second per client address per engine; more get 429 with Retry-After",
       WSGATE_ENGINE_FIELD(handshake_rate_per_address)},
      {"handshake_burst_per_address", Kind::kCount, 1, 1'000'000, 0,
       "the per-address rate's burst (default: the rate)", WSGATE_ENGINE_FIELD(handshake_burst_per_address)},
      {"handshake_rate_per_api", Kind::kCount, 1, 1'000'000, 0,
       "new connections per second per API per engine (an API may override it); more get 429",
       WSGATE_ENGINE_FIELD(handshake_rate_per_api)},
      {"handshake_burst_per_api", Kind::kCount, 1, 1'000'000, 0, "the per-API rate's burst (default: the rate)",
       WSGATE_ENGINE_FIELD(handshake_burst_per_api)},
      {"accept_budget", Kind::kCount, 1, 65536, 256,
       "sockets each shard accepts per loop iteration; the rest wait, so a connect storm cannot starve relays",
       WSGATE_ENGINE_FIELD(accept_budget)},
      {"overload_soft_percent", Kind::kCount, 1, 99, 85,
       "past this share of connection or buffer capacity, new upgrades get 503 and idle pings back off",
       [](const v1::EnvironmentSettings& s) -> uint64_t { return s.settings().overload().soft_percent(); },
       [](v1::EnvironmentSettings& s, uint64_t v) {
         s.mutable_settings()->mutable_overload()->set_soft_percent(static_cast<uint32_t>(v));
       }},
      {"overload_hard_percent", Kind::kCount, 2, 100, 95,
       "past this share the newest connections are shed with 1013 (above overload_soft_percent)",
       [](const v1::EnvironmentSettings& s) -> uint64_t { return s.settings().overload().hard_percent(); },
       [](v1::EnvironmentSettings& s, uint64_t v) {
         s.mutable_settings()->mutable_overload()->set_hard_percent(static_cast<uint32_t>(v));
       }},
      {"overload_retry_after", Kind::kDuration, 1 * kS, 1 * kHour, 5 * kS, "the Retry-After of an overload 503",
       [](const v1::EnvironmentSettings& s) -> uint64_t { return s.settings().overload().retry_after_s(); },
       [](v1::EnvironmentSettings& s, uint64_t v) {
         s.mutable_settings()->mutable_overload()->set_retry_after_s(static_cast<uint32_t>(v));
       },
       kS},
  };
}
#undef WSGATE_ENGINE_FIELD

struct Unit {
  const char* suffix;
  uint64_t scale;
};
// Longest suffixes first, so "ms" is not read as "m" + "s".
constexpr Unit kDurationUnits[] = {{"ms", kMs}, {"s", kS}, {"m", kMin}, {"h", kHour}};
constexpr Unit kSizeUnits[] = {{"kib", kKiB}, {"mib", kMiB}, {"gib", kGiB}, {"kb", 1000},
                               {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"b", 1}};

const char* Expected(Kind kind) {
  switch (kind) {
    case Kind::kDuration: return "a duration with a unit: 500ms, 30s, 5m, 1h";
    case Kind::kSize: return "a size: bytes, or with a unit: 64KiB, 1MiB, 16MB, 1GiB";
    case Kind::kCount: return "a whole number";
  }
  return "";
}

}  // namespace

const std::vector<Key>& Table() {
  static const std::vector<Key>* table = BuildTable();
  return *table;
}

const Key* Find(std::string_view name) {
  for (const Key& k : Table())
    if (name == k.name) return &k;
  return nullptr;
}

absl::StatusOr<uint64_t> Parse(const Key& key, const std::string& text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(key.name, ": '", text, "' is not ", Expected(key.kind)));
  };
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 19) return bad();
  uint64_t number = 0;
  if (!absl::SimpleAtoi(text.substr(0, digits), &number)) return bad();
  std::string suffix = absl::AsciiStrToLower(text.substr(digits));
  uint64_t scale = 0;
  if (key.kind == Kind::kCount) {
    if (suffix.empty()) scale = 1;
  } else if (key.kind == Kind::kSize && suffix.empty()) {
    scale = 1;
  } else {
    const Unit* begin = key.kind == Kind::kDuration ? std::begin(kDurationUnits) : std::begin(kSizeUnits);
    const Unit* end = key.kind == Kind::kDuration ? std::end(kDurationUnits) : std::end(kSizeUnits);
    for (const Unit* u = begin; u != end; ++u)
      if (suffix == u->suffix) scale = u->scale;
  }
  if (scale == 0) return bad();
  if (number > std::numeric_limits<uint64_t>::max() / scale) return bad();
  uint64_t value = number * scale;
  if (value < key.min || value > key.max)
    return absl::InvalidArgumentError(absl::StrCat(key.name, ": ", text, " is out of range [", Format(key, key.min),
                                                   ", ", Format(key, key.max), "]"));
  if (value % key.field_unit != 0)
    return absl::InvalidArgumentError(
        absl::StrCat(key.name, ": ", text, " must be a whole number of ", Format(key, key.field_unit)));
  return value;
}

std::string Format(const Key& key, uint64_t value) {
  if (key.kind == Kind::kCount) return absl::StrCat(value);
  if (key.kind == Kind::kDuration) {
    if (value == 0) return "0s";
    for (auto [suffix, scale] : {Unit{"h", kHour}, Unit{"m", kMin}, Unit{"s", kS}})
      if (value % scale == 0) return absl::StrCat(value / scale, suffix);
    return absl::StrCat(value, "ms");
  }
  if (value != 0)
    for (auto [suffix, scale] : {Unit{"GiB", kGiB}, Unit{"MiB", kMiB}, Unit{"KiB", kKiB}})
      if (value % scale == 0) return absl::StrCat(value / scale, suffix);
  return absl::StrCat(value, "B");
}

uint64_t Effective(const Key& key, const v1::EnvironmentSettings& s, bool* is_default) {
  uint64_t stored = key.get(s);
  *is_default = stored == 0;
  return stored == 0 ? key.default_value : stored * key.field_unit;
}

absl::Status Assign(const std::string& assignment, v1::EnvironmentSettings& s) {
  size_t eq = assignment.find('=');
  std::string name = assignment.substr(0, eq);
  const Key* key = Find(name);
  if (key == nullptr) {
    std::vector<std::string> names;
    for (const Key& k : Table()) names.push_back(k.name);
    return absl::InvalidArgumentError(
        absl::StrCat("'", name, "' is not a setting (settings: ", absl::StrJoin(names, ", "), ")"));
  }
  if (eq == std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat(key->name, ": give key=value, e.g. ", key->name, "=",
                                                   Format(*key, key->default_value ? key->default_value : key->min)));
  std::string text = assignment.substr(eq + 1);
  if (text == "default") {
    key->set(s, 0);
    return absl::OkStatus();
  }
  WSGATE_ASSIGN_OR_RETURN(uint64_t value, Parse(*key, text));
  key->set(s, value / key->field_unit);
  return absl::OkStatus();
}

void Describe(v1::EnvironmentSettings& s) {
  s.clear_values();
  for (const Key& k : Table()) {
    v1::SettingValue* v = s.add_values();
    bool is_default = false;
    uint64_t value = Effective(k, s, &is_default);
    v->set_key(k.name);
    v->set_value(value == 0 ? "auto" : Format(k, value));
    v->set_is_default(is_default);
    v->set_default_value(k.default_value == 0 ? "auto" : Format(k, k.default_value));
    v->set_min(Format(k, k.min));
    v->set_max(Format(k, k.max));
    v->set_help(k.help);
  }
}

absl::Status Validate(const v1::EnvironmentSettings& s) {
  for (const Key& k : Table()) {
    uint64_t stored = k.get(s);
    if (stored == 0) continue;
    uint64_t value = stored * k.field_unit;
    if (value < k.min || value > k.max)
      return absl::InvalidArgumentError(absl::StrCat(k.name, ": ", Format(k, value), " is out of range [",
                                                     Format(k, k.min), ", ", Format(k, k.max), "]"));
  }
  // Rules a range cannot say.
  uint32_t code = s.settings().drain_close_code();
  if (code != 0 && !(code == 1001 || (code >= 1012 && code <= 1014) || (code >= 4000 && code <= 4999)))
    return absl::InvalidArgumentError(absl::StrCat("drain_close_code: ", code, " is not 1001, 1012-1014 or 4000-4999"));
  bool is_default = false;
  uint64_t soft = Effective(*Find("overload_soft_percent"), s, &is_default);
  uint64_t hard = Effective(*Find("overload_hard_percent"), s, &is_default);
  if (soft >= hard)
    return absl::InvalidArgumentError(
        absl::StrCat("overload_soft_percent (", soft, ") must be below overload_hard_percent (", hard, ")"));
  return absl::OkStatus();
}

std::vector<std::string> Assignments(const v1::EnvironmentSettings& s) {
  std::vector<std::string> out;
  for (const Key& k : Table())
    if (k.get(s) != 0) out.push_back(absl::StrCat(k.name, "=", Format(k, k.get(s) * k.field_unit)));
  return out;
}

void ClearKeys(v1::EnvironmentSettings& s) {
  for (const Key& k : Table()) k.set(s, 0);
  if (s.settings().has_overload() && s.settings().overload().ByteSizeLong() == 0) s.mutable_settings()->clear_overload();
}

}  // namespace wsgate::agent::settings
