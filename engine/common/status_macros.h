// File: engine/common/status_macros.h
//
// Propagation helpers for absl::Status / absl::StatusOr at module boundaries (config compile,
// gRPC handlers, startup, CLI). Abseil 20220623 ships none of these.
//
//   absl::StatusOr<Snapshot> Compile(const pb::Snapshot& in) {
//     WSGATE_RETURN_IF_ERROR(Validate(in));
//     WSGATE_ASSIGN_OR_RETURN(auto routes, BuildRoutes(in));
//     ...
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define WSGATE_STATUS_CONCAT_INNER_(a, b) a##b
#define WSGATE_STATUS_CONCAT_(a, b) WSGATE_STATUS_CONCAT_INNER_(a, b)

// Unique variable names (__COUNTER__), so the macros nest, e.g. inside a lambda passed to a call
// that is itself wrapped in WSGATE_RETURN_IF_ERROR.
#define WSGATE_RETURN_IF_ERROR(expr) \
  WSGATE_RETURN_IF_ERROR_IMPL_(WSGATE_STATUS_CONCAT_(wsgate_status_, __COUNTER__), expr)

#define WSGATE_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                              \
    ::absl::Status status = (expr);                 \
    if (!status.ok()) return status;                \
  } while (0)

#define WSGATE_ASSIGN_OR_RETURN(lhs, expr) \
  WSGATE_ASSIGN_OR_RETURN_IMPL_(WSGATE_STATUS_CONCAT_(wsgate_statusor_, __COUNTER__), lhs, expr)

#define WSGATE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
