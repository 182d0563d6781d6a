// `tend mcp` as a client sees it: the real binary over pipes, a real daemon.

#include <gtest/gtest.h>

#include "mcp/mcp_process.hpp"

namespace tend::test {
namespace {

using nlohmann::json;

std::string text_of(const json& result) { return result["content"][0]["text"].get<std::string>(); }

TEST(McpServer, SurvivesMalformedJsonAndUnknownMethods) {
  TendHome home;
  McpProcess mcp(home);
  mcp.send("this is not json");
  json r = mcp.receive();
  EXPECT_EQ(r["error"]["code"], -32700);
  EXPECT_TRUE(r["id"].is_null());
  r = mcp.request(1, "no/such/method");
  EXPECT_EQ(r["error"]["code"], -32601);
  r = mcp.request(2, "tools/call", {{"name", "no_such_tool"}});
  EXPECT_EQ(r["error"]["code"], -32602);
  r = mcp.request(3, "ping");
  EXPECT_EQ(r["result"], json::object());
}

TEST(McpServer, InitializeNegotiatesTheProtocolVersion) {
  TendHome home;
  McpProcess mcp(home);
  json r = mcp.request(1, "initialize",
                       {{"protocolVersion", "2024-11-05"},
                        {"capabilities", json::object()},
                        {"clientInfo", {{"name", "t"}, {"version", "1"}}}});
  EXPECT_EQ(r["result"]["protocolVersion"], "2024-11-05");
  r = mcp.request(2, "initialize",
                  {{"protocolVersion", "2099-01-01"},
                   {"capabilities", json::object()},
                   {"clientInfo", {{"name", "t"}, {"version", "1"}}}});
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-11-25");
}

TEST(McpServer, AToolCallWithABadArgumentIsAnErrorResultNamingIt) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "true"}, {"timeout_s", "soon"}});
  EXPECT_TRUE(r["isError"].get<bool>());
  EXPECT_NE(text_of(r).find("\"timeout_s\" must be a number"), std::string::npos) << text_of(r);
  r = mcp.call_tool(2, "task_status", {{"id", 424242}});
  EXPECT_TRUE(r["isError"].get<bool>());
  EXPECT_NE(text_of(r).find("no task 424242"), std::string::npos) << text_of(r);
}

TEST(McpServer, AnEmptyTaskIdIsAnErrorAndStopsNothing) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json started = mcp.call_tool(1, "shell_run", {{"command", "sleep 60"}, {"background", true}});
  ASSERT_FALSE(started.value("isError", false)) << started.dump();
  for (const char* tool : {"task_kill", "task_output", "task_status"}) {
    json r = mcp.call_tool(2, tool, {{"id", ""}});
    EXPECT_TRUE(r["isError"].get<bool>()) << tool;
    EXPECT_NE(text_of(r).find("empty task reference"), std::string::npos) << tool << ": " << text_of(r);
  }
  json zero = mcp.call_tool(3, "task_output", {{"id", "99999999999999999999"}});
  EXPECT_TRUE(zero["isError"].get<bool>());
  EXPECT_NE(text_of(zero).find("no task 99999999999999999999"), std::string::npos) << text_of(zero);
  json status = mcp.call_tool(4, "task_status", {{"id", 1}});
  EXPECT_EQ(status["structuredContent"]["task"]["state"], "running") << status.dump();
  mcp.call_tool(5, "task_kill", {{"id", 1}, {"grace_s", 1}});
}

TEST(McpServer, DurationsPastAHundredYearsAreRefusedNotATimeoutAtOnce) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "echo ran"}, {"timeout_s", 1e10}});
  EXPECT_TRUE(r["isError"].get<bool>()) << r.dump();
  EXPECT_NE(text_of(r).find("\"timeout_s\""), std::string::npos) << text_of(r);
  EXPECT_NE(text_of(r).find("100 years"), std::string::npos) << text_of(r);
  json fine = mcp.call_tool(2, "shell_run", {{"command", "echo ran"}, {"timeout_s", 3e9}});
  EXPECT_FALSE(fine.value("isError", false)) << fine.dump();
  EXPECT_EQ(fine["structuredContent"]["task"]["state"], "succeeded") << fine.dump();
}

TEST(McpServer, ACommandThatCannotStartSaysWhy) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "true"}, {"cwd", "/no/such/dir"}});
  EXPECT_EQ(r["structuredContent"]["task"]["state"], "failed");
  EXPECT_NE(text_of(r).find("/no/such/dir"), std::string::npos) << text_of(r);
}

TEST(McpServer, ShellRunAnswersWithTheOutputAndTheExitCode) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "echo out; echo err >&2; exit 4"}});
  EXPECT_FALSE(r["isError"].get<bool>());
  EXPECT_EQ(r["structuredContent"]["task"]["state"], "failed");
  EXPECT_EQ(r["structuredContent"]["task"]["exit_code"], 4);
  EXPECT_NE(text_of(r).find("out\nerr\n"), std::string::npos) << text_of(r);
  EXPECT_NE(text_of(r).find("exit code 4"), std::string::npos) << text_of(r);
}

TEST(McpServer, TaskOutputShowsBothStreamsInOrderAndALogLimitIsKept) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  // A task of the CLI's: its streams apart, written 200 ms apart.
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", "echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three"})
                .exit_code,
            0);
  json r = mcp.call_tool(1, "task_output", {{"id", 1}, {"stream", "both"}, {"tail_lines", 10}});
  EXPECT_EQ(r["structuredContent"]["data"], "one\ntwo\nthree\n") << text_of(r);
  json bad = mcp.call_tool(2, "task_output", {{"id", 1}, {"stream", "both"}, {"since", 3}});
  EXPECT_TRUE(bad["isError"].get<bool>());
  json capped = mcp.call_tool(3, "shell_run", {{"command", "head -c 300000 /dev/zero"}, {"log_limit", 100000}});
  auto id = capped["structuredContent"]["task"]["id"].get<int>();
  json status = home.tend_json({"status", std::to_string(id), "--json"});
  EXPECT_EQ(status["log_limit"], 100000);
  EXPECT_EQ(status["output_dropped"]["stdout"]["bytes"], 200000) << status.dump();
}

TEST(McpServer, ShellRunTakesItsEnvironmentAndDirectory) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  TempDir dir;
  json r = mcp.call_tool(
      1, "shell_run",
      {{"command", "echo \"$GREETING in $(pwd)\""}, {"env", {{"GREETING", "hello"}}}, {"cwd", dir.path().string()}});
  EXPECT_NE(text_of(r).find("hello in " + dir.path().string()), std::string::npos) << text_of(r);
}

TEST(McpServer, ShellRunIsBoundedByTheCommandPolicyUnlikeTheCli) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "sleep 30"}, {"background", true}});
  const json limits = r["structuredContent"]["task"]["limits"];
  EXPECT_EQ(limits["timeout"], (json{{"ms", 120000}, {"from", "policy"}})) << r.dump();
  EXPECT_EQ(limits["idle_timeout"], (json{{"ms", 60000}, {"from", "policy"}})) << r.dump();
  r = mcp.call_tool(2, "shell_run", {{"command", "sleep 30"}, {"background", true}, {"timeout_s", 0}});
  EXPECT_EQ(r["structuredContent"]["task"]["limits"]["timeout"], (json{{"ms", nullptr}, {"from", "given"}}));
  // The same command from the tend command: no limit.
  ASSERT_EQ(home.tend({"run", "--", "sh", "-c", "sleep 30"}).exit_code, 0);
  EXPECT_EQ(home.tend_json({"status", "3", "--json"})["limits"]["timeout"]["from"], "none");
  home.tend({"kill", "1", "2", "3"});
}

TEST(McpServer, ATaskThatEndsInTheBackgroundIsNotified) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "sleep 0.3; exit 2"}, {"background", true}});
  ASSERT_EQ(r["structuredContent"]["background"], true);
  const auto id = r["structuredContent"]["task"]["id"].get<std::int64_t>();
  json note = mcp.receive(std::chrono::seconds(30));
  ASSERT_FALSE(note.is_null());
  EXPECT_EQ(note["method"], "notifications/message");
  EXPECT_EQ(note["params"]["level"], "warning");
  EXPECT_EQ(note["params"]["data"]["task"]["id"], id);
  EXPECT_EQ(note["params"]["data"]["task"]["state"], "failed");
  EXPECT_EQ(note["params"]["data"]["task"]["exit_code"], 2);
}

TEST(McpServer, ATaskThatGoesQuietIsReportedAndThenItsEnd) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "sleep 30"}, {"background", true}, {"idle_timeout_s", 0.3}});
  const auto id = r["structuredContent"]["task"]["id"];
  json quiet = mcp.receive(std::chrono::seconds(30));
  ASSERT_FALSE(quiet.is_null());
  EXPECT_EQ(quiet["params"]["data"]["event"], "task_stalled");
  EXPECT_EQ(quiet["params"]["data"]["task"]["id"], id);
  json ended = mcp.receive(std::chrono::seconds(30));
  ASSERT_FALSE(ended.is_null());
  EXPECT_EQ(ended["params"]["data"]["event"], "task_ended");
  EXPECT_EQ(ended["params"]["data"]["task"]["state"], "stalled");
}

TEST(McpServer, SetLevelErrorSilencesTheNoticeOfASuccess) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  mcp.request(1, "logging/setLevel", {{"level", "error"}});
  json r = mcp.call_tool(2, "shell_run", {{"command", "true"}, {"background", true}});
  const auto id = r["structuredContent"]["task"]["id"];
  json w = mcp.call_tool(3, "task_wait", {{"ids", {id}}, {"timeout_s", 20}});
  EXPECT_EQ(w["structuredContent"]["finished"][0]["state"], "succeeded");
  EXPECT_TRUE(mcp.request(4, "ping")["result"].is_object());
  EXPECT_TRUE(mcp.notes.empty());
}

TEST(McpServer, ACancelledCallIsNotAnsweredAndItsTaskGoesOn) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "sleep 30"}, {"background", true}});
  const auto id = r["structuredContent"]["task"]["id"];
  mcp.send(json{{"jsonrpc", "2.0"},
                {"id", 2},
                {"method", "tools/call"},
                {"params", {{"name", "task_wait"}, {"arguments", {{"ids", {id}}, {"timeout_s", 40}}}}}}
               .dump());
  mcp.send(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 2}}}}.dump());
  json status = mcp.call_tool(3, "task_status", {{"id", id}});
  EXPECT_EQ(status["structuredContent"]["task"]["state"], "running");
  // Only the ping's answer comes: none for the cancelled wait.
  json next = mcp.request(4, "ping", json::object(), std::chrono::seconds(5));
  EXPECT_EQ(next["id"], 4);
  json killed = mcp.call_tool(5, "task_kill", {{"id", id}, {"grace_s", 1}});
  EXPECT_EQ(killed["structuredContent"]["task"]["state"], "killed");
}

TEST(McpServer, EndsPromptlyWhenItsInputClosesEvenWithACallInFlight) {
  TendHome home;
  McpProcess mcp(home);
  mcp.initialize();
  json r = mcp.call_tool(1, "shell_run", {{"command", "sleep 30"}, {"background", true}});
  const auto id = r["structuredContent"]["task"]["id"];
  mcp.send(json{{"jsonrpc", "2.0"},
                {"id", 2},
                {"method", "tools/call"},
                {"params", {{"name", "task_wait"}, {"arguments", {{"ids", {id}}, {"timeout_s", 40}}}}}}
               .dump());
  mcp.request(3, "ping");  // the wait is in flight by now
  auto started = std::chrono::steady_clock::now();
  mcp.close_input();
  auto exit = mcp.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(exit.has_value());
  EXPECT_TRUE(exit->success());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // The task outlives the MCP server.
  auto status = home.tend_json({"status", std::to_string(id.get<int>()), "--json"});
  EXPECT_EQ(status["state"], "running");
  home.tend({"kill", std::to_string(id.get<int>()), "--grace", "1s"});
}

}  // namespace
}  // namespace tend::test
