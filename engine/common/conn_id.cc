// File: engine/common/conn_id.cc
#include "engine/common/conn_id.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/absl_compat.h"

namespace wsgate::common {

std::string FormatConnId(const ConnId& id) {
  return absl::StrCat(id.engine_id, "-", id.shard, "-", id.slot, "-", id.generation);
}

absl::StatusOr<ConnId> ParseConnId(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "connection id '", Sv(text.substr(0, 80)), "': ", Sv(why),
        " (ids look like 3f9a0c1d2e4b5a69-2-517-9; list them with wsgatectl conn ls)"));
  };
  std::vector<absl::string_view> parts = absl::StrSplit(Sv(text), '-');
  if (parts.size() != 4) return bad("needs four parts separated by '-'");
  ConnId id;
  if (parts[0].empty() || parts[0].size() > 32) return bad("the engine id must be 1-32 hex digits");
  for (char c : parts[0]) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return bad("the engine id must be hex digits");
  }
  id.engine_id = std::string(parts[0]);
  for (int i = 1; i < 4; ++i) {
    for (char c : parts[i]) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad("shard, slot and generation must be decimal numbers");
    }
  }
  if (!absl::SimpleAtoi(parts[1], &id.shard) || !absl::SimpleAtoi(parts[2], &id.slot) ||
      !absl::SimpleAtoi(parts[3], &id.generation))
    return bad("shard, slot and generation must be decimal numbers");
  return id;
}

}  // namespace wsgate::common
