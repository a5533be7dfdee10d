// File: agent/admin_audit.h
//
// The audit log's writer: a gRPC server interceptor on the Admin service that records every
// mutating call (every RPC whose name does not start with Get or List) in the catalog's audit
// table once its status is known — time, caller, method, object (kind + the name or id the
// request named), outcome (OK, or the status code and message). It sees the decoded request, so
// no handler has to remember to audit; it records only the object's reference, never the
// request's other fields (secrets, tokens, key material stay out).
//
// Calls refused as UNAUTHENTICATED are not recorded (they are logged, rate limited, by
// AdminService): an unauthenticated flood must not push real records out of the bounded table.
//
// Caller identity: the authenticated user's name, which AdminService puts in the call's trailing
// metadata (admin_auth.h's kCallerMetadata) before any handler runs.
//
//   builder.experimental().SetInterceptorCreators(AuditInterceptors(catalog));
//
// Thread-safe (one interceptor per call; the catalog serializes).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/server_interceptor.h>

#include "agent/catalog.h"
#include "google/protobuf/message.h"

namespace wsgate::agent {

// "CreateApi" from "/wsgate.v1.Admin/CreateApi".
std::string_view MethodName(std::string_view full_method);
// Whether an Admin RPC changes something (is audited): every one but Get* and List*.
bool IsMutation(std::string_view method);
// The audited object of a call: kind from the method ("CreateThrottlePolicy" → "throttle policy"),
// name from the request's reference fields (api, application, id, subscription_id, name,
// jti; spec.name:spec.version; " revision N" from number or revision).
struct AuditObject {
  std::string kind, name;
};
AuditObject ObjectOf(std::string_view method, const google::protobuf::Message& request);
// Who made the call: the kCallerMetadata value of the call's trailing metadata ("" without one).
std::string AuditCaller(const std::multimap<std::string, std::string>* trailing_metadata);

class PairCounters;  // metrics.h

// The Admin service's interceptors: the audit log, and (when `rpcs` is given) every Admin RPC
// counted by method and code for the agent's /metrics.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> AuditInterceptors(
    Catalog& catalog, PairCounters* rpcs = nullptr);

}  // namespace wsgate::agent
