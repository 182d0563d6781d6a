#include "tend/rpc/task_ref.hpp"

#include <gtest/gtest.h>

using namespace tend::rpc;
using nlohmann::json;

namespace {

TaskRefError::Kind error_kind(const json& value) {
  try {
    parse_task_ref(value);
  } catch (const TaskRefError& e) {
    return e.kind();
  }
  ADD_FAILURE() << value.dump() << " was taken";
  return TaskRefError::Kind::malformed;
}

}  // namespace

TEST(TaskRef, DigitsAreAnIdAndAnythingElseAName) {
  EXPECT_EQ(parse_task_ref_text("42").id, 42u);
  EXPECT_EQ(parse_task_ref(json(42)).id, 42u);
  EXPECT_EQ(parse_task_ref(json(42.0)).id, 42u);
  EXPECT_EQ(parse_task_ref(json("9223372036854775807")).id, 9223372036854775807u);
  EXPECT_EQ(parse_task_ref_text("web").name, "web");
  EXPECT_FALSE(parse_task_ref_text("web").id);
  EXPECT_EQ(parse_task_ref_text("web").to_json(), json("web"));
  EXPECT_EQ(parse_task_ref_text("7").to_json(), json(7));
}

TEST(TaskRef, AnEmptyReferenceIsMalformedNotTheNewestUnnamedTask) {
  EXPECT_EQ(error_kind(json("")), TaskRefError::Kind::malformed);
  EXPECT_EQ(error_kind(json(nullptr)), TaskRefError::Kind::malformed);
  EXPECT_EQ(error_kind(json::array()), TaskRefError::Kind::malformed);
  EXPECT_EQ(error_kind(json(1.5)), TaskRefError::Kind::malformed);
}

TEST(TaskRef, IdsNoTaskCanHaveAreNoSuchTaskNotAnException) {
  for (const json& id : {json("0"), json(0), json(-3), json("99999999999999999999"), json("9223372036854775808"),
                         json(18446744073709551615u), json(1e30)}) {
    EXPECT_EQ(error_kind(id), TaskRefError::Kind::no_such_task) << id.dump();
  }
  try {
    parse_task_ref_text("99999999999999999999");
  } catch (const TaskRefError& e) {
    EXPECT_STREQ(e.what(), "no task 99999999999999999999");
  }
}
