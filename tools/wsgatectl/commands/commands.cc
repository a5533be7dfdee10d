// File: tools/wsgatectl/commands/commands.cc
#include "tools/wsgatectl/commands/commands.h"

namespace wsgate::tools::ctl {

std::vector<Command> AllCommands() {
  std::vector<Command> commands;
  AddApiCommands(commands);
  AddAccessCommands(commands);
  AddTopicCommands(commands);
  AddScopeCommands(commands);
  AddRevisionCommands(commands);
  AddAppCommands(commands);
  AddSubscriptionCommands(commands);
  AddKeysCommands(commands);
  AddApiKeyCommands(commands);
  AddTokenCommands(commands);
  AddSigningKeyCommands(commands);
  AddPolicyCommands(commands);
  AddEnvCommands(commands);
  AddSettingsCommands(commands);
  AddCertCommands(commands);
  AddStatusCommands(commands);
  AddDeclarativeCommands(commands);
  AddImportCommands(commands);
  AddConnCommands(commands);
  AddAuditCommands(commands);
  AddUsageCommands(commands);
  AddSnapshotCommands(commands);
  AddUserCommands(commands);
  AddIdpCommands(commands);
  AddCliCommands(commands);
  AddTopCommands(commands);
  return commands;
}

}  // namespace wsgate::tools::ctl
