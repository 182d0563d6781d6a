// task_restart and task_edit as an MCP client sees them: the real `tend mcp`
// over pipes, a real daemon, real processes.

#include <gtest/gtest.h>

#include "mcp/mcp_process.hpp"

namespace tend::test {
namespace {

using nlohmann::json;

std::string result_text(const json& result) { return result["content"][0]["text"].get<std::string>(); }
bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(McpRestart, TaskRestartRunsAnEndedTaskAgainWithTheChangesGiven) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  ASSERT_EQ(home.tend({"run", "--wait", "--env", "X=1", "--", "sh", "-c", "echo $X-$Y"}).exit_code, 0);

  json r = mcp.call_tool(1, "task_restart", {{"id", 1}, {"env", {{"Y", "2"}}}});
  ASSERT_FALSE(r["isError"].get<bool>()) << result_text(r);
  EXPECT_EQ(r["structuredContent"]["id"], 1);
  EXPECT_EQ(r["structuredContent"]["new_id"], 2);
  EXPECT_TRUE(mentions(result_text(r), "runs again as task 2")) << result_text(r);
  EXPECT_EQ(home.tend({"wait", "2"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "2", "--stdout"}).out, "1-2\n");

  json again = mcp.call_tool(2, "task_restart", {{"id", 1}, {"command", "echo changed"}});
  ASSERT_FALSE(again["isError"].get<bool>()) << result_text(again);
  EXPECT_EQ(home.tend({"wait", "3"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "3", "--stdout"}).out, "changed\n");
}

TEST(McpRestart, TaskRestartRefusesATaskThatHasNotEndedAndBadArguments) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");

  json running = mcp.call_tool(1, "task_restart", {{"id", 1}});
  EXPECT_TRUE(running["isError"].get<bool>());
  EXPECT_TRUE(mentions(result_text(running), "task 1 is running")) << result_text(running);
  json unknown = mcp.call_tool(2, "task_restart", {{"id", 424242}});
  EXPECT_TRUE(unknown["isError"].get<bool>());
  EXPECT_TRUE(mentions(result_text(unknown), "no task 424242")) << result_text(unknown);
  json extra = mcp.call_tool(3, "task_restart", {{"id", 1}, {"argv", {"true"}}});
  EXPECT_TRUE(extra["isError"].get<bool>());
  EXPECT_TRUE(mentions(result_text(extra), "argv")) << result_text(extra);
  json huge = mcp.call_tool(4, "task_edit", {{"id", 1}, {"priority", 1e12}});
  EXPECT_TRUE(huge["isError"].get<bool>());
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"})["tasks"].size(), 1u);  // nothing was started
}

TEST(McpRestart, TaskEditChangesAQueuedTaskAndRefusesAStartedOne) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  ASSERT_EQ(home.tend({"parallel", "1", "--group", "default"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--", "echo", "old"}).out, "2\n");

  json r = mcp.call_tool(1, "task_edit", {{"id", 2}, {"command", "echo new"}, {"name", "edited"}});
  ASSERT_FALSE(r["isError"].get<bool>()) << result_text(r);
  EXPECT_TRUE(mentions(result_text(r), "echo new")) << result_text(r);
  json started = mcp.call_tool(2, "task_edit", {{"id", 1}, {"command", "echo no"}});
  EXPECT_TRUE(started["isError"].get<bool>());
  EXPECT_TRUE(mentions(result_text(started), "task 1 is running")) << result_text(started);
  json nothing = mcp.call_tool(3, "task_edit", {{"id", 2}});
  EXPECT_TRUE(nothing["isError"].get<bool>());

  ASSERT_EQ(home.tend({"kill", "1"}).exit_code, 0);
  EXPECT_EQ(home.tend({"wait", "edited"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "2", "--stdout"}).out, "new\n");
}

}  // namespace
}  // namespace tend::test
