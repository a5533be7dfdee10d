// File: engine/common/absl_compat.h
//
// Debian 12's Abseil is built with ABSL_OPTION_USE_STD_STRING_VIEW=0: absl::string_view is its own
// class and std::string_view does not convert to it. Our code uses std::string_view; wrap it with
// Sv() where it crosses into an Abseil API (StrCat, SimpleAtoi, Status messages):
//
//   absl::StrCat("--", Sv(name), ": bad value");
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace wsgate::common {

inline absl::string_view Sv(std::string_view v) { return absl::string_view(v.data(), v.size()); }

}  // namespace wsgate::common
