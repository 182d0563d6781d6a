#include "tend/store/json_limits.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "support/test_support.hpp"
#include "tend/store/state_store.hpp"

using namespace tend;
using namespace tend::store;

namespace {
std::string nested(std::size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}
}  // namespace

TEST(JsonLimits, NestingUpToTheLimitParsesAndOneLevelMoreIsRefused) {
  EXPECT_EQ(parse_json(nested(max_json_depth)).dump().size(), 2 * max_json_depth);
  EXPECT_THROW(parse_json(nested(max_json_depth + 1)), JsonTooDeep);
  std::string objects;
  for (std::size_t i = 0; i <= max_json_depth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(max_json_depth + 1, '}');
  EXPECT_THROW(parse_json(objects), JsonTooDeep);
}

TEST(JsonLimits, AHundredThousandLevelsAreRefusedWhileParsingNotAfter) {
  try {
    parse_json(nested(100000));
    FAIL() << "parsed";
  } catch (const JsonTooDeep& e) {
    EXPECT_NE(std::string(e.what()).find("deeper than 64 levels"), std::string::npos) << e.what();
  }
  // Text that is not JSON is still nlohmann's error, as before.
  EXPECT_THROW(parse_json("[1,"), nlohmann::json::parse_error);
  EXPECT_EQ(parse_json(R"({"a":[1,{"b":null}]})")["a"][1]["b"], nullptr);
}

TEST(JsonLimits, ATaskRecordNestedTooDeepIsRefusedNamingTheDatabase) {
  test::TempDir dir;
  auto db = dir.path() / "tend.db";
  { StateStore store(db); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  const std::string sql = "INSERT INTO tasks (id, spec, status, state) VALUES (1, '{\"x\":" + nested(100000) +
                          "}', '{}', 'running')";
  ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  StateStore store(db);
  try {
    store.load();
    FAIL() << "loaded";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(db.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("deeper than 64"), std::string::npos) << e.what();
  }
}
