// File: tools/wsgatectl/diagnose.h — wsgatectl's own diagnostics on stderr (failures, warnings)
// and the --log-format global that shapes them: "wsgatectl: [warning: ]MESSAGE" in text (the
// default), or one JSON log line each (engine/common/log_format.h; component "wsgatectl").
// Command output on stdout (-o json, tables) is not affected.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/common/flags.h"
#include "engine/common/log.h"

namespace wsgate::tools::ctl {

// Adds --log-format to a command's parser (AddGlobalFlags does).
void AddLogFormatFlag(common::FlagParser& parser);
// After parsing: applies --log-format, or INVALID_ARGUMENT naming the flag for a bad value.
absl::Status ApplyLogFormat();
void Diagnose(common::LogLevel level, std::string_view message);

}  // namespace wsgate::tools::ctl
