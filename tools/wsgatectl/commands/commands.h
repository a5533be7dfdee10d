// File: tools/wsgatectl/commands/commands.h — the command table: one Add...Commands per group,
// each in its own file (commands/<group>.cc), and AllCommands(), which `wsgatectl --help` lists
// in order.
#pragma once

#include <vector>

#include "tools/wsgatectl/command.h"

namespace wsgate::tools::ctl {

void AddApiCommands(std::vector<Command>& commands);           // api ...
void AddAccessCommands(std::vector<Command>& commands);        // api access
void AddTopicCommands(std::vector<Command>& commands);         // topic ...
void AddScopeCommands(std::vector<Command>& commands);         // api scope ... (issue 14)
void AddRevisionCommands(std::vector<Command>& commands);      // revision ...
void AddAppCommands(std::vector<Command>& commands);           // app ...
void AddSubscriptionCommands(std::vector<Command>& commands);  // subscription ...
void AddKeysCommands(std::vector<Command>& commands);          // keys ...
void AddApiKeyCommands(std::vector<Command>& commands);        // apikey ... (issue 14 item 4)
void AddTokenCommands(std::vector<Command>& commands);         // token, token revoke
void AddSigningKeyCommands(std::vector<Command>& commands);    // signing-key ...
void AddPolicyCommands(std::vector<Command>& commands);        // policy ...
void AddEnvCommands(std::vector<Command>& commands);           // env ...
void AddSettingsCommands(std::vector<Command>& commands);      // settings get|set
void AddCertCommands(std::vector<Command>& commands);          // cert ...
void AddStatusCommands(std::vector<Command>& commands);        // status
void AddConnCommands(std::vector<Command>& commands);          // conn ... (operations)
void AddAuditCommands(std::vector<Command>& commands);         // audit (operations)
void AddUsageCommands(std::vector<Command>& commands);         // usage (operations)
void AddUserCommands(std::vector<Command>& commands);          // user ... (roles)
void AddIdpCommands(std::vector<Command>& commands);           // idp ... (issue 14 item 6)
void AddTopCommands(std::vector<Command>& commands);           // top (operations)
void AddDeclarativeCommands(std::vector<Command>& commands);   // export, diff, apply (cfg-decl)
void AddImportCommands(std::vector<Command>& commands);        // import wso2|asyncapi, export wso2 (cfg-decl)
void AddSnapshotCommands(std::vector<Command>& commands);      // snapshot [--standalone] (pkg)
void AddCliCommands(std::vector<Command>& commands);           // version, completion, context ... (cli)

// An ApplyCatalog reply as text: "+ KIND NAME" (create), "~ KIND NAME" and one indented line per
// changed field (update), "- KIND NAME" (delete); export/diff/apply and import print it.
std::string ChangesText(const v1::ApplyCatalogResponse& resp);

// Every command, grouped as above.
std::vector<Command> AllCommands();

}  // namespace wsgate::tools::ctl
