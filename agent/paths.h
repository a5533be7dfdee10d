// File: agent/paths.h
//
// Where the agent keeps its state, shared by wsgate-agent and wsgatectl so that on one machine
// both find the same data directory (and the admin credential in it) with no flags.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace wsgate::agent {

// $WSGATE_HOME, else $HOME/.local/state/wsgate.
std::string DefaultDataDir();
// Creates `dir` (mode 0700) and its parents if missing.
absl::Status EnsurePrivateDir(const std::string& dir);
// <dir>/admin.token: read it, or with `create`, make a new random one (mode 0600) if missing.
absl::StatusOr<std::string> AdminCredential(const std::string& dir, bool create);

}  // namespace wsgate::agent
