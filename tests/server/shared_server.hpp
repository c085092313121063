// One `harmony serve` shared by every test of a suite (started once, stopped after the last test).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {

/// Derive as `class MyTest : public SharedServerTest<MyTest>` and give the suite its server's
/// options with `static std::vector<std::string> server_args()`; tests reach it as `server_`.
template <class Suite>
class SharedServerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        server_ = std::make_unique<Server>(dir_->file("data"), Suite::server_args());
        ASSERT_TRUE(server_->start()) << server_->log();
    }
    static void TearDownTestSuite() {
        server_.reset();
        dir_.reset();
    }
    static inline std::unique_ptr<TempDir> dir_;
    static inline std::unique_ptr<Server> server_;
};

}  // namespace harmony::test
