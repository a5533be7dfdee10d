// File: tests/support/postgres_server.h
//
// A real PostgreSQL for the catalog tests (issue 19): initdb into its own temporary directory
// (trust authentication, C locale, no fsync), postgres on an ephemeral loopback port with its
// Unix socket in that directory, run as the `postgres` system user when the tests run as root
// (initdb and postgres refuse root), stopped by PID (SIGQUIT, then SIGKILL) in the destructor.
// Tests skip when the binaries are missing:
//
//   if (PostgresServer::BinDir().empty()) GTEST_SKIP() << PostgresServer::kMissing;
//   PostgresServer pg;
//   ASSERT_TRUE(pg.Start()) << pg.error();
//   std::string uri = pg.CreateDatabase("walkthrough");   // postgres://postgres@127.0.0.1:PORT/walkthrough
//
// Links libpq (OpenSSL 3): never in a binary that links BoringSSL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/subprocess.h"

namespace wsgate::testing {

class PostgresServer {
 public:
  static constexpr const char* kMissing =
      "PostgreSQL is not installed (no initdb and postgres under /usr/lib/postgresql/*/bin or $WSGATE_PG_BIN): "
      "apt-get install postgresql (tools/setup.sh does)";
  // The directory holding initdb and postgres ($WSGATE_PG_BIN, else the newest
  // /usr/lib/postgresql/N/bin), or "" when not installed.
  static std::string BinDir();

  PostgresServer();
  ~PostgresServer();  // stops it by PID and removes its directory
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Before Start: more addresses to listen on (comma-separated) and the network allowed to connect
  // from them with trust authentication (a CIDR), for agents in other network namespaces.
  void ListenAlsoOn(const std::string& addresses, const std::string& network) {
    extra_listen_ = addresses;
    extra_network_ = network;
  }
  // initdb (once), then starts postgres and waits until it accepts connections.
  bool Start();
  // Stops it by PID: SIGQUIT (immediate shutdown: with the tests' synchronous_commit=off the last
  // ~0.5 s of commits may be lost, as on a crash), SIGKILL if it lingers. `fast`: SIGINT instead
  // (a fast shutdown, as a restart by the service manager: every commit kept).
  void Stop(bool fast = false);
  bool running() const { return process_ != nullptr; }
  uint16_t port() const { return port_; }
  // The connection URI of database `db` (the superuser `postgres`, trust authentication).
  std::string uri(const std::string& db) const;
  // Creates an empty database `db` (letters, digits, '_') and returns its URI; "" on failure (error()).
  std::string CreateDatabase(const std::string& db);
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string extra_listen_, extra_network_;
  std::string user_;  // "postgres" when this process is root, else "" (this user)
  uint16_t port_ = 0;
  bool initialized_ = false;
  std::unique_ptr<Subprocess> process_;
  std::string error_;
};

// The catalog a test opens for `dir`: <dir>/catalog.db, or, when WSGATE_TEST_CATALOG=postgres
// (the `_postgres` ctest entries), a fresh database on this test process's own PostgreSQL (one
// database per dir, the same one on every call, so a test can reopen its catalog).
std::string TestCatalogTarget(const std::string& dir);
// True when this run's catalogs are on PostgreSQL.
bool TestCatalogIsPostgres();
// Why this run cannot use the backend it asks for ("" when it can): only missing PostgreSQL
// binaries make the `_postgres` entries skip.
std::string TestCatalogSkipReason();

}  // namespace wsgate::testing
