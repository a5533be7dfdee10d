// File: tests/unit/agent/catalog_fixture.h — a Catalog on a fresh SQLite file in a temporary
// directory, reopenable, recording the config versions it pushes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "agent/catalog.h"
#include "tests/support/postgres_server.h"

namespace wsgate::agent {

class CatalogFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = ::wsgate::testing::TestCatalogSkipReason(); !why.empty()) GTEST_SKIP() << why;
    char tmpl[] = "/tmp/wsgate-catalog-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Reopen();
  }
  void TearDown() override {
    catalog_.reset();
    ASSERT_EQ(std::system(("rm -rf " + dir_).c_str()), 0);
  }
  void Reopen() {
    catalog_.reset();
    auto c = Catalog::Open(::wsgate::testing::TestCatalogTarget(dir_), CatalogOptions());
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = *std::move(c);
    catalog_->SetChangeListener([this](uint64_t v) { pushed_.push_back(v); });
  }

  std::string dir_;
  std::unique_ptr<Catalog> catalog_;
  std::vector<uint64_t> pushed_;
};

}  // namespace wsgate::agent
