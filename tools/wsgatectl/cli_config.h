// File: tools/wsgatectl/cli_config.h — wsgatectl's own configuration (issue 17): named contexts,
// each an agent address and where its admin credential is, in
// $XDG_CONFIG_HOME/wsgate/config.yaml (default ~/.config/wsgate/config.yaml), like apictl's
// environments. `wsgatectl context add|use|list|delete` edit it.
//
//   current-context: prod
//   contexts:
//     - name: prod
//       agent: gw1.example.com:9400
//       credential-file: /etc/wsgate/admin.token
//
// Which agent a command talks to: --agent, else $WSGATE_AGENT, else the context ($WSGATE_CONTEXT,
// else current-context), else 127.0.0.1:9400. The credential: $WSGATE_ADMIN_TOKEN, else
// --data-dir's admin.token when --data-dir is given, else the context's credential-file or
// data-dir, else the default data dir's admin.token.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace wsgate::tools::ctl {

struct CliContext {
  std::string name;
  std::string agent;            // ADDR:PORT
  std::string credential_file;  // a file holding the admin token ("" = data_dir's admin.token)
  std::string data_dir;         // "" = the default data dir
};

struct CliConfig {
  std::string current;  // current-context ("" = none)
  std::vector<CliContext> contexts;
  const CliContext* Find(const std::string& name) const;
};

// $XDG_CONFIG_HOME/wsgate/config.yaml, else $HOME/.config/wsgate/config.yaml.
std::string ConfigPath();

// The file at `path`; a missing file is an empty configuration. Errors name the file and line.
absl::StatusOr<CliConfig> LoadConfig(const std::string& path);
// Writes it (creating the directory, mode 0600: it may name credential files).
absl::Status SaveConfig(const std::string& path, const CliConfig& config);

// The context commands use: $WSGATE_CONTEXT (an error when it names none), else current-context;
// null when neither is set.
absl::StatusOr<const CliContext*> ActiveContext(const CliConfig& config);

}  // namespace wsgate::tools::ctl
