// File: tests/support/postgres_server.cc
#include "tests/support/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/local_server.h"

namespace wsgate::testing {

std::string PostgresServer::BinDir() {
  auto usable = [](const std::string& d) {
    return ::access((d + "/initdb").c_str(), X_OK) == 0 && ::access((d + "/postgres").c_str(), X_OK) == 0;
  };
  if (const char* env = std::getenv("WSGATE_PG_BIN"); env != nullptr && *env != '\0') return usable(env) ? env : "";
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string name = e.path().filename().string();
    if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit) && usable(e.path().string() + "/bin"))
      found.emplace_back(std::atoi(name.c_str()), e.path().string() + "/bin");
  }
  if (found.empty()) return "";
  return std::max_element(found.begin(), found.end())->second;
}

PostgresServer::PostgresServer() : dir_(MakeTempDir("wsgate-pg-")) {
  if (::geteuid() == 0) user_ = "postgres";
}

PostgresServer::~PostgresServer() {
  Stop();
  RemoveTree(dir_);
}

bool PostgresServer::Start() {
  if (process_) return true;
  const std::string bin = BinDir();
  if (bin.empty() || dir_.empty()) {
    error_ = bin.empty() ? kMissing : "cannot create a temporary directory";
    return false;
  }
  if (!initialized_) {
    if (!user_.empty()) {
      const passwd* pw = ::getpwnam(user_.c_str());
      if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "running as root, the tests need the system user 'postgres' (the postgresql package makes it)";
        return false;
      }
    }
    Subprocess initdb({bin + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A", "trust", "--no-locale", "-E",
                       "UTF8", "--no-sync"},
                      {}, user_);
    if (initdb.Wait(120000) != 0) {
      error_ = "initdb failed: " + initdb.output();
      return false;
    }
    initialized_ = true;
    if (!extra_network_.empty()) std::ofstream(dir_ + "/data/pg_hba.conf", std::ios::app) << "host all all " << extra_network_ << " trust\n";
  }
  const bool first = port_ == 0;
  for (int attempt = 0; attempt < (first ? 5 : 1); ++attempt) {
    if (first) port_ = ReserveLoopbackPort();
    process_ = std::make_unique<Subprocess>(
        std::vector<std::string>{bin + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-k", dir_, "-c",
                                 "listen_addresses=127.0.0.1" + (extra_listen_.empty() ? "" : "," + extra_listen_), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                                 "full_page_writes=off"},
        std::vector<std::string>{}, user_);
    if (process_->started() && process_->WaitForOutput("database system is ready to accept connections", 30000))
      return true;
    error_ = "postgres did not start: " + process_->output();
    Stop();
    if (error_.find("could not bind") == std::string::npos && error_.find("already in use") == std::string::npos)
      return false;
  }
  return false;
}

void PostgresServer::Stop(bool fast) {
  if (!process_) return;
  process_->Signal(fast ? SIGINT : SIGQUIT);
  if (process_->Wait(fast ? 30000 : 5000) < 0) {
    process_->Signal(SIGKILL);
    process_->Wait(5000);
  }
  process_.reset();
}

std::string PostgresServer::uri(const std::string& db) const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresServer::CreateDatabase(const std::string& db) {
  if (db.empty() || !std::all_of(db.begin(), db.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) {
    error_ = "database names here are letters, digits and '_'";
    return "";
  }
  PGconn* conn = PQconnectdb(uri("postgres").c_str());
  std::string out;
  if (PQstatus(conn) != CONNECTION_OK) {
    error_ = std::string("cannot connect: ") + PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, ("CREATE DATABASE " + db).c_str());
    if (PQresultStatus(r) == PGRES_COMMAND_OK)
      out = uri(db);
    else
      error_ = std::string("CREATE DATABASE: ") + PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(conn);
  return out;
}

bool TestCatalogIsPostgres() {
  const char* v = std::getenv("WSGATE_TEST_CATALOG");
  return v != nullptr && std::string(v) == "postgres";
}

std::string TestCatalogSkipReason() {
  return TestCatalogIsPostgres() && PostgresServer::BinDir().empty() ? PostgresServer::kMissing : "";
}

std::string TestCatalogTarget(const std::string& dir) {
  if (!TestCatalogIsPostgres()) return dir + "/catalog.db";
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;  // stopped when the test process exits
  static std::map<std::string, std::string> databases;
  std::lock_guard lock(mu);
  if (auto it = databases.find(dir); it != databases.end()) return it->second;
  if (!server) {
    server = std::make_unique<PostgresServer>();
    if (!server->Start()) std::fprintf(stderr, "TestCatalogTarget: %s\n", server->error().c_str());
  }
  std::string uri = server->CreateDatabase("catalog_" + std::to_string(databases.size() + 1));
  // A target that fails to open, with the reason, rather than a silent SQLite fallback.
  if (uri.empty()) uri = "postgres://127.0.0.1:1/not_started?application_name=" + std::to_string(databases.size());
  if (uri.find(":1/not_started") != std::string::npos)
    std::fprintf(stderr, "TestCatalogTarget: %s\n", server->error().c_str());
  databases[dir] = uri;
  return uri;
}

}  // namespace wsgate::testing
