// SPDX-License-Identifier: GPL-2.0
//
// gtest main that also prints one TAP-style line per test, the form
// scripts/check.sh counts:
//   ok - PREFIX/SUITE.CASE
//   not ok - PREFIX/SUITE.CASE: first line of the first failure (file:line)
// PREFIX comes from CKPT_TAP_PREFIX ("host core" if unset).  "# start" lines
// let scripts/host-tests.sh name the test a sanitizer abort cut short.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

class TapPrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit TapPrinter(std::string prefix) : prefix_(std::move(prefix)) {}

  void OnTestStart(const ::testing::TestInfo& test) override {
    reason_.clear();
    std::printf("# start %s\n", name(test).c_str());
    std::fflush(stdout);
  }

  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed() || !reason_.empty()) return;
    std::string summary = result.summary();
    summary = summary.substr(0, summary.find('\n'));
    const std::string file = result.file_name() ? result.file_name() : "?";
    reason_ = summary + " (" + file.substr(file.rfind('/') + 1) + ":" + std::to_string(result.line_number()) + ")";
  }

  void OnTestEnd(const ::testing::TestInfo& test) override {
    const ::testing::TestResult& result = *test.result();
    if (result.Failed())
      std::printf("not ok - %s/%s: %s\n", prefix_.c_str(), name(test).c_str(), reason_.c_str());
    else if (result.Skipped())
      std::printf("ok - %s/%s # SKIP\n", prefix_.c_str(), name(test).c_str());
    else
      std::printf("ok - %s/%s\n", prefix_.c_str(), name(test).c_str());
    std::fflush(stdout);
  }

 private:
  static std::string name(const ::testing::TestInfo& test) {
    return std::string(test.test_suite_name()) + "." + test.name();
  }

  std::string prefix_;
  std::string reason_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const char* prefix = std::getenv("CKPT_TAP_PREFIX");
  ::testing::UnitTest::GetInstance()->listeners().Append(new TapPrinter(prefix ? prefix : "host core"));
  return RUN_ALL_TESTS();
}
