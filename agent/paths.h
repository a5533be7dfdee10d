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
// Creates `dir` (mode 0700) and its parents if missing. An existing `dir` that its group or others
// may access is tightened to 0700 (and the agent's files in it to 0600), with a warning; one this
// process cannot chmod (another owner) is refused.
absl::Status EnsurePrivateDir(const std::string& dir);
// Takes <dir>/agent.lock (flock LOCK_EX|LOCK_NB, the holder's PID in it) for the life of the
// process, so that two agents never share a catalog. FAILED_PRECONDITION naming the PID of the
// agent that holds it.
absl::Status LockDataDir(const std::string& dir);
// <dir>/admin.token: read it, or with `create`, make a new random one (mode 0600) if missing.
absl::StatusOr<std::string> AdminCredential(const std::string& dir, bool create);
// The catalog the agent opens (agent/store.h): `--catalog` as given ("sqlite:PATH" or
// "postgres://USER@HOST:PORT/DB?..."), or <data_dir>/catalog.db when it is empty.
// INVALID_ARGUMENT naming --catalog and the accepted forms otherwise.
absl::StatusOr<std::string> CatalogTarget(const std::string& flag, const std::string& data_dir);
// A failure to open `target`, for the operator: names --catalog and what to do.
std::string CatalogOpenError(const std::string& target, const absl::Status& status);

}  // namespace wsgate::agent
