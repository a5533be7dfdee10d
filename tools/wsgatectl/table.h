// File: tools/wsgatectl/table.h — text tables for wsgatectl's list commands (issue 17): a header
// row, then one row per item, columns aligned with two spaces between them. Pure.
//
//   Table({"NAME", "AGENT"}, {{"prod", "gw:9400"}})  // "NAME  AGENT\nprod  gw:9400\n"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wsgate::tools::ctl {

// The rows under `header` (no header row when it is empty); the last column is not padded.
std::string Table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// A duration for people: "45s", "12m", "3h4m", "2d3h".
std::string DurationText(int64_t ms);

}  // namespace wsgate::tools::ctl
