// File: engine/config/snapshot_file.h
//
// Reading a snapshot an operator wrote (`wsgate-engine --config FILE`): protobuf text format, or
// JSON (protobuf's JSON mapping) when the first non-blank character is `{`. Errors name the file,
// the format and, for text format, every line and column protobuf's parser complained about.
// A file without agent_id gets "file:PATH"; without a version, 1.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

absl::StatusOr<v1::Snapshot> ParseSnapshotText(std::string_view text, const std::string& name);
absl::StatusOr<v1::Snapshot> LoadSnapshotFile(const std::string& path);

}  // namespace wsgate::engine::config
