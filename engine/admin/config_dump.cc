// File: engine/admin/config_dump.cc
#include "engine/admin/config_dump.h"

#include "google/protobuf/util/json_util.h"

namespace wsgate::engine::admin {

v1::Snapshot RedactSecrets(const v1::Snapshot& snapshot) {
  v1::Snapshot out = snapshot;
  for (v1::Vhost& v : *out.mutable_vhosts()) {
    if (v.has_tls() && !v.tls().key_pem().empty()) v.mutable_tls()->set_key_pem(kRedacted);
  }
  for (v1::OpaqueToken& t : *out.mutable_opaque_tokens()) t.clear_sha256();
  if (out.has_backend_signing_key()) out.mutable_backend_signing_key()->set_private_key_pem(kRedacted);
  return out;
}

std::string ConfigDumpJson(const v1::Snapshot& snapshot) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // A message we built ourselves always converts; an error here would be a bug in the proto
  // library, answered as an empty object rather than a crash.
  if (!google::protobuf::util::MessageToJsonString(RedactSecrets(snapshot), &json, options).ok()) return "{}\n";
  return json + "\n";
}

}  // namespace wsgate::engine::admin
