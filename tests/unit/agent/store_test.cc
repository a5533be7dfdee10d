// agent/store.h on both backends (this binary runs on SQLite and, as agent_store_test_postgres,
// on PostgreSQL): placeholders, typed columns and blobs, constraint violations as ALREADY_EXISTS,
// nested transactions as SAVEPOINTs, and the pure parsing of targets and PostgreSQL URIs.
#include "agent/store.h"

#include <gtest/gtest.h>

#include <string>

#include "agent/postgres.h"
#include "tests/support/local_server.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    dir_ = ::wsgate::testing::MakeTempDir("wsgate-store-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(db_.Open(::wsgate::testing::TestCatalogTarget(dir_)).ok());
    ASSERT_TRUE(db_.Exec("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL, b " +
                         std::string(db_.dialect() == Dialect::kPostgres ? "BYTEA" : "BLOB") + " NOT NULL)")
                    .ok());
  }
  void TearDown() override { ::wsgate::testing::RemoveTree(dir_); }
  int64_t Count() {
    Statement st = db_.Prepare("SELECT COUNT(*) FROM t");
    return st.Next() ? st.Int(0) : -1;
  }

  std::string dir_;
  Db db_;
};

TEST_F(StoreTest, BindsColumnsBlobsAndChanges) {
  const std::string blob("\x00\x01\xff\\x'", 6);
  ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES(?, ?, ?)").Bind(1, "a").Bind(2, int64_t{1} << 40).BindBlob(3, blob).Run().ok());
  ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES(?3, ?2, ?1)").BindBlob(1, "").Bind(2, -7).Bind(3, "it's ?").Run().ok());
  Statement st = db_.Prepare("SELECT k, n, b FROM t WHERE ?1 = '' OR k = ?1 ORDER BY k");
  st.Bind(1, "");
  ASSERT_TRUE(st.Next()) << st.status();
  EXPECT_EQ(st.Text(0), "a");
  EXPECT_EQ(st.Int(1), int64_t{1} << 40);
  EXPECT_EQ(st.Text(2), blob);
  ASSERT_TRUE(st.Next());
  EXPECT_EQ(st.Text(0), "it's ?");
  EXPECT_EQ(st.Int(1), -7);
  EXPECT_EQ(st.Text(2), "");
  EXPECT_FALSE(st.Next());
  EXPECT_TRUE(st.status().ok()) << st.status();
  Statement up = db_.Prepare("UPDATE t SET n = n + 1");
  ASSERT_TRUE(up.Run().ok());
  EXPECT_EQ(up.changes(), 2);
}

TEST_F(StoreTest, AConstraintViolationIsAlreadyExists) {
  ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES('a', 1, ?)").BindBlob(1, "x").Run().ok());
  absl::Status s = db_.Prepare("INSERT INTO t VALUES('a', 2, ?)").BindBlob(1, "y").Run();
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  absl::Status bad = db_.Prepare("SELECT nope FROM t").Run();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal) << bad;
}

TEST_F(StoreTest, NestedTransactionsUndoOnlyThemselves) {
  {
    Transaction outer(db_);
    ASSERT_TRUE(outer.Begin().ok());
    ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES('kept', 1, ?)").BindBlob(1, "").Run().ok());
    {
      Transaction inner(db_);
      ASSERT_TRUE(inner.Begin().ok());
      ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES('undone', 1, ?)").BindBlob(1, "").Run().ok());
      // A failing statement inside the inner step: its rollback also clears PostgreSQL's
      // aborted-transaction state, so the outer one can still commit.
      EXPECT_TRUE(absl::IsAlreadyExists(db_.Prepare("INSERT INTO t VALUES('kept', 2, ?)").BindBlob(1, "").Run()));
    }  // not committed: ROLLBACK TO
    ASSERT_TRUE(outer.Commit().ok());
  }
  EXPECT_EQ(Count(), 1);
  {
    Transaction tx(db_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES('gone', 1, ?)").BindBlob(1, "").Run().ok());
  }  // destroyed without Commit: ROLLBACK
  EXPECT_EQ(Count(), 1);
}

TEST_F(StoreTest, ACommitAfterAFailedStatementKeepsNothingOnEitherBackend) {
  {
    Transaction tx(db_);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db_.Prepare("INSERT INTO t VALUES('b', 1, ?)").BindBlob(1, "").Run().ok());
    ASSERT_FALSE(db_.Prepare("INSERT INTO t VALUES('b', 2, ?)").BindBlob(1, "").Run().ok());
    absl::Status commit = tx.Commit();
    // SQLite keeps the transaction usable after a failed statement; PostgreSQL aborts it, and the
    // store says so instead of PostgreSQL's silent ROLLBACK.
    if (db_.dialect() == Dialect::kPostgres) {
      EXPECT_TRUE(absl::IsAborted(commit)) << commit;
      EXPECT_NE(commit.message().find("nothing was committed"), std::string::npos) << commit;
    } else {
      EXPECT_TRUE(commit.ok()) << commit;
    }
  }
  EXPECT_EQ(Count(), db_.dialect() == Dialect::kPostgres ? 0 : 1);
}

TEST(StoreTargetTest, FormsAndErrors) {
  auto plain = ParseStoreTarget("/var/lib/wsgate/catalog.db");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->dialect, Dialect::kSqlite);
  EXPECT_EQ(plain->location, "/var/lib/wsgate/catalog.db");
  EXPECT_EQ(ParseStoreTarget("sqlite:rel/c.db")->location, "rel/c.db");
  EXPECT_EQ(ParseStoreTarget("sqlite:///abs/c.db")->location, "/abs/c.db");
  EXPECT_EQ(ParseStoreTarget("postgresql://h/db")->dialect, Dialect::kPostgres);
  EXPECT_EQ(ParseStoreTarget("postgres://u@h:5432/db")->location, "postgres://u@h:5432/db");
  EXPECT_EQ(ParseStoreTarget("mysql://h/db").status().message(),
            "'mysql://h/db' is neither sqlite:PATH nor postgres://USER@HOST:PORT/DB");
  EXPECT_EQ(ParseStoreTarget("sqlite:").status().message(), "'sqlite:' names no file (sqlite:PATH)");
}

TEST(PostgresTextTest, PlaceholdersAndRedaction) {
  EXPECT_EQ(PostgresPlaceholders("SELECT ? , ?"), "SELECT $1 , $2");
  EXPECT_EQ(PostgresPlaceholders("a = ?2 OR b = ?2 OR c = ?"), "a = $2 OR b = $2 OR c = $3");
  EXPECT_EQ(PostgresPlaceholders("x = '?' AND \"q?\" = ? AND y = 'it''s ?'"), "x = '?' AND \"q?\" = $1 AND y = 'it''s ?'");
  EXPECT_EQ(RedactedUri("postgres://u:pw@h:5/db"), "postgres://u:***@h:5/db");
  EXPECT_EQ(RedactedUri("postgres://u@h:5/db?password=pw&sslmode=require"), "postgres://u@h:5/db?password=***&sslmode=require");
  EXPECT_EQ(RedactedUri("postgres://h:5/db"), "postgres://h:5/db");
}

}  // namespace
}  // namespace wsgate::agent
