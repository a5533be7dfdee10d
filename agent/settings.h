// File: agent/settings.h
//
// The engine settings an operator sets per gateway environment (`wsgatectl settings set --env ENV
// key=value ...`), as ONE declarative table: key -> field, kind, allowed range, default. The
// agent validates assignments with it; wsgatectl and `settings get` print values with it. Pure:
// no I/O, no catalog.
//
//   v1::EnvironmentSettings s;
//   absl::Status st = settings::Assign("ping_interval=50ms", s);
//   // INVALID_ARGUMENT "ping_interval: 50ms is out of range [1s, 1h]"
//   settings::Assign("max_message_bytes=1MiB", s);  // s.settings().max_message_bytes() == 1048576
//
// Durations take a unit (500ms, 30s, 5m, 1h); sizes take an optional unit (64KiB, 1MiB, 16MB,
// bare = bytes); counts are plain integers. "key=default" goes back to the engine default (the
// field is cleared: 0 means "the engine's default" in EngineSettings).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::agent::settings {

enum class Kind : uint8_t { kDuration, kSize, kCount };

struct Key {
  const char* name;  // "ping_interval"
  Kind kind;
  // Range and default in the value's canonical unit: milliseconds, bytes or a count. A default of
  // 0 means the engine derives it (max_connections: from the fd limit).
  uint64_t min, max, default_value;
  const char* help;
  // The field, in its own unit: get returns 0 when unset; set(0) clears it.
  uint64_t (*get)(const v1::EnvironmentSettings&);
  void (*set)(v1::EnvironmentSettings&, uint64_t);
  // The field's unit in canonical units (1000 for clock_skew, stored in seconds); values must be
  // a whole multiple of it.
  uint64_t field_unit = 1;
};

// Every key, in the order `settings get` lists them.
const std::vector<Key>& Table();
// nullptr when there is no such key.
const Key* Find(std::string_view name);

// "30s" -> 30000 (kDuration, ms); "1MiB" -> 1048576 (kSize); "12" -> 12 (kCount). Errors name the
// key: "ping_interval: 50ms is out of range [1s, 1h]", "queue_bytes: '1 Mb' is not a size ...".
absl::StatusOr<uint64_t> Parse(const Key& key, const std::string& text);
// The canonical value with the largest exact unit: 30000 -> "30s", 1048576 -> "1MiB".
std::string Format(const Key& key, uint64_t value);

// The effective value (canonical units) and whether it is the default.
uint64_t Effective(const Key& key, const v1::EnvironmentSettings& s, bool* is_default);
// Applies one "key=value" (or "key=default"). Unknown keys list the known ones.
absl::Status Assign(const std::string& assignment, v1::EnvironmentSettings& s);
// Fills s.values with every key of the table (value, default, range, help).
void Describe(v1::EnvironmentSettings& s);
// Validates every set field of a stored or imported EnvironmentSettings against the table, and the
// rules between fields (a drain close code the engine sends; overload soft below hard).
absl::Status Validate(const v1::EnvironmentSettings& s);

// Declarative configuration (catalog_apply.cc): every set key as "key=value", in table order, in
// the units Assign reads back ({"ping_interval=10s"}); and clearing every key of the table
// (fields outside it, e.g. access rules, stay).
std::vector<std::string> Assignments(const v1::EnvironmentSettings& s);
void ClearKeys(v1::EnvironmentSettings& s);

}  // namespace wsgate::agent::settings
