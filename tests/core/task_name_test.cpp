#include "tend/core/task_name.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace tend;

TEST(TaskName, PlainNamesAndUnicodeAreTaken) {
  for (const char* good : {"web", "dev-server", "build 2", "x", "café", "日本語", "a1", "-5", "v1.2"}) {
    EXPECT_EQ(task_name_problem(good), std::nullopt) << good;
  }
  EXPECT_EQ(task_name_problem(std::string(64, 'n')), std::nullopt);
}

TEST(TaskName, ControlCharactersAreRefusedNamingThem) {
  auto newline = task_name_problem("a\nb");
  ASSERT_TRUE(newline);
  EXPECT_NE(newline->find("control character (\\n) at byte 1"), std::string::npos) << *newline;
  auto escape = task_name_problem("\x1b[2Jwiped");
  ASSERT_TRUE(escape);
  EXPECT_NE(escape->find("\\x1b"), std::string::npos) << *escape;
  EXPECT_TRUE(task_name_problem(std::string("a\0b", 3)));
  EXPECT_TRUE(task_name_problem("tab\there"));
  EXPECT_TRUE(task_name_problem("del\x7f"));
  EXPECT_TRUE(task_name_problem("c1\xc2\x9b"));  // U+009B, the C1 CSI
}

TEST(TaskName, EmptyTooLongAllDigitsSlashesAndBadUtf8AreRefused) {
  EXPECT_EQ(task_name_problem(""), "is empty");
  auto long_name = task_name_problem(std::string(65, 'n'));
  ASSERT_TRUE(long_name);
  EXPECT_NE(long_name->find("65 bytes"), std::string::npos) << *long_name;
  EXPECT_TRUE(task_name_problem("42"));
  EXPECT_TRUE(task_name_problem("web/dev"));
  auto invalid = task_name_problem("bad\xff");
  ASSERT_TRUE(invalid);
  EXPECT_NE(invalid->find("not valid UTF-8"), std::string::npos) << *invalid;
  EXPECT_TRUE(task_name_problem("\xc0\xaf"));  // an overlong "/"
}
