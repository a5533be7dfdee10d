// File: tools/wsgatectl/top_view.h — what `wsgatectl top` shows, computed from two GetTraffic
// replies of the agent (each engine's counters at one moment): per API (Name:Version, summed
// over engines and revisions) the connections relaying now and, between the two replies, the
// rates of new connections, data frames each way, throttled and denied frames, and errors.
//
// Errors are upgrades that matched the API and were refused (401, 403, 429, 5xx) plus relayed
// connections closed with 1011; the TOTAL row counts every refused upgrade (404s and 400s that
// matched no API too) and every 1011 close.
//
// An engine's rates use the time between its own two replies. An engine with no earlier reply
// (it did not answer then, or is new) shows its connections but adds nothing to the rates this
// round; one whose engine id changed (it restarted) counts from zero. Pure; no I/O.
//
//   TopTable t = ComputeTop(previous, latest);
//   std::cout << FormatTop(t, absl::ToUnixMillis(absl::Now()));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

struct TopRow {
  std::string api;           // "Chats:1.0.0", or "TOTAL"
  uint64_t connections = 0;  // relaying now
  double new_per_s = 0;      // completed upgrades
  double in_per_s = 0;       // data frames client -> backend
  double out_per_s = 0;      // data frames backend -> client
  double throttled_per_s = 0;  // both directions
  double denied_per_s = 0;     // both directions (topic direction rights)
  double errors_per_s = 0;
};

struct TopTable {
  std::vector<TopRow> apis;  // busiest first (frames each way), then by name
  TopRow total;
  int engines_answering = 0;
  std::vector<std::string> unreachable;  // "TARGET: error"
  double seconds = 0;                    // the longest interval an engine's rates are over
};

TopTable ComputeTop(const v1::GetTrafficResponse& before, const v1::GetTrafficResponse& after);

// The table as plain text (fixed-width columns, one line per API, then TOTAL, then the engines
// that did not answer), with a title line naming the time `now_unix_ms` (UTC).
std::string FormatTop(const TopTable& table, int64_t now_unix_ms);

}  // namespace wsgate::tools::ctl
