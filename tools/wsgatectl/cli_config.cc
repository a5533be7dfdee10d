// File: tools/wsgatectl/cli_config.cc
#include "tools/wsgatectl/cli_config.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace wsgate::tools::ctl {

const CliContext* CliConfig::Find(const std::string& name) const {
  for (const auto& c : contexts)
    if (c.name == name) return &c;
  return nullptr;
}

std::string ConfigPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return absl::StrCat(xdg, "/wsgate/config.yaml");
  const char* home = std::getenv("HOME");
  return absl::StrCat(home && *home ? home : ".", "/.config/wsgate/config.yaml");
}

absl::StatusOr<CliConfig> LoadConfig(const std::string& path) {
  CliConfig config;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return config;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a map (current-context, contexts)"));
  try {
    if (root["current-context"]) config.current = root["current-context"].as<std::string>();
    for (const auto& node : root["contexts"]) {
      CliContext c;
      if (!node.IsMap() || !node["name"])
        return absl::InvalidArgumentError(absl::StrCat(path, ":", node.Mark().line + 1, ": a context needs a name"));
      c.name = node["name"].as<std::string>();
      if (node["agent"]) c.agent = node["agent"].as<std::string>();
      if (node["credential-file"]) c.credential_file = node["credential-file"].as<std::string>();
      if (node["data-dir"]) c.data_dir = node["data-dir"].as<std::string>();
      config.contexts.push_back(std::move(c));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", e.mark.line + 1, ": ", e.msg));
  }
  return config;
}

absl::Status SaveConfig(const std::string& path, const CliConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!config.current.empty()) out << YAML::Key << "current-context" << YAML::Value << config.current;
  out << YAML::Key << "contexts" << YAML::Value;
  if (config.contexts.empty()) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const auto& c : config.contexts) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << c.name;
    if (!c.agent.empty()) out << YAML::Key << "agent" << YAML::Value << c.agent;
    if (!c.credential_file.empty()) out << YAML::Key << "credential-file" << YAML::Value << c.credential_file;
    if (!c.data_dir.empty()) out << YAML::Key << "data-dir" << YAML::Value << c.data_dir;
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create the directory of ", path, ": ", ec.message()));
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
    f << out.c_str() << "\n";
    if (!f.flush()) return absl::DataLossError(absl::StrCat("cannot write ", tmp));
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot replace ", path, ": ", ec.message()));
  return absl::OkStatus();
}

absl::StatusOr<const CliContext*> ActiveContext(const CliConfig& config) {
  std::string name = config.current;
  if (const char* env = std::getenv("WSGATE_CONTEXT"); env && *env) {
    name = env;
    if (config.Find(name) == nullptr)
      return absl::NotFoundError(absl::StrCat("WSGATE_CONTEXT: no context '", name, "' (wsgatectl context list)"));
  }
  if (name.empty()) return nullptr;
  const CliContext* c = config.Find(name);
  if (c == nullptr)
    return absl::NotFoundError(absl::StrCat("current-context '", name, "' is not in ", ConfigPath(),
                                            " (wsgatectl context use NAME)"));
  return c;
}

}  // namespace wsgate::tools::ctl
