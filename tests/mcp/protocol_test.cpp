// The MCP protocol layer on its own: what each line from a client gets back.

#include "mcp/protocol.hpp"

#include <gtest/gtest.h>

#include "mcp/arguments.hpp"
#include "tend/version.hpp"

namespace tend::mcp {
namespace {

json answer(Protocol& p, const std::string& line) {
  Action a = p.handle_line(line);
  EXPECT_TRUE(a.reply.has_value()) << line;
  return a.reply ? json::parse(*a.reply) : json();
}

std::string initialize_line(const std::string& version) {
  return json{{"jsonrpc", "2.0"},
              {"id", 1},
              {"method", "initialize"},
              {"params",
               {{"protocolVersion", version},
                {"capabilities", json::object()},
                {"clientInfo", {{"name", "test"}, {"version", "1"}}}}}}
      .dump();
}

TEST(McpProtocol, InitializeAnswersWithTheClientsVersionWhenTendSpeaksIt) {
  for (const std::string v : {"2024-11-05", "2025-03-26", "2025-06-18"}) {
    Protocol p;
    json r = answer(p, initialize_line(v));
    EXPECT_EQ(r["result"]["protocolVersion"], v);
    EXPECT_EQ(p.version(), v);
  }
}

TEST(McpProtocol, InitializeOffersTheNewestVersionForAnUnknownOne) {
  Protocol p;
  json r = answer(p, initialize_line("1999-01-01"));
  EXPECT_EQ(r["result"]["protocolVersion"], supported_versions().front());
  EXPECT_EQ(negotiate_version("2030-01-01"), supported_versions().front());
}

TEST(McpProtocol, InitializeDeclaresToolsAndLoggingAndNamesTheServer) {
  Protocol p;
  json r = answer(p, initialize_line("2025-06-18"))["result"];
  EXPECT_TRUE(r["capabilities"]["tools"].is_object());
  EXPECT_TRUE(r["capabilities"]["logging"].is_object());
  EXPECT_EQ(r["serverInfo"]["name"], "tend");
  EXPECT_EQ(r["serverInfo"]["version"], tend::kVersion);
  EXPECT_TRUE(r["instructions"].is_string());
}

TEST(McpProtocol, InitializeWithoutAVersionIsInvalidParams) {
  Protocol p;
  json r = answer(p, R"({"jsonrpc":"2.0","id":7,"method":"initialize","params":{}})");
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(r["error"]["code"], -32602);
}

TEST(McpProtocol, AnUnknownMethodIsMethodNotFound) {
  Protocol p;
  json r = answer(p, R"({"jsonrpc":"2.0","id":"a","method":"resources/list"})");
  EXPECT_EQ(r["id"], "a");
  EXPECT_EQ(r["error"]["code"], -32601);
}

TEST(McpProtocol, MalformedJsonIsAParseErrorWithANullId) {
  Protocol p;
  json r = answer(p, R"({"jsonrpc":"2.0","id":1,"method":)");
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_EQ(r["error"]["code"], -32700);
}

TEST(McpProtocol, ANumberTooLargeForADoubleIsAParseErrorNotTheEndOfTheServer) {
  // Found by the rpc_request fuzzer: nlohmann throws out_of_range, not parse_error, for it.
  Protocol p;
  json r = answer(p, R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":1E400}})");
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_EQ(r["error"]["code"], -32700);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("1E400"), std::string::npos) << r;
  EXPECT_EQ(answer(p, R"({"jsonrpc":"2.0","id":2,"method":"ping"})")["id"], 2);
}

TEST(McpProtocol, NotAJsonRpcRequestIsAnInvalidRequest) {
  Protocol p;
  EXPECT_EQ(answer(p, "[1, 2]")["error"]["code"], -32600);
  EXPECT_EQ(answer(p, "42")["error"]["code"], -32600);
  EXPECT_EQ(answer(p, R"({"jsonrpc":"1.0","id":3,"method":"ping"})")["error"]["code"], -32600);
  EXPECT_EQ(answer(p, R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})")["error"]["code"], -32600);
  EXPECT_EQ(answer(p, R"({"jsonrpc":"2.0","id":4,"method":"ping","params":[1]})")["error"]["code"], -32602);
}

TEST(McpProtocol, NotificationsAndResponsesAreNeverAnswered) {
  Protocol p;
  for (const char* line : {R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                           R"({"jsonrpc":"2.0","method":"notifications/whatever","params":{}})",
                           R"({"jsonrpc":"2.0","id":9,"result":{}})"}) {
    Action a = p.handle_line(line);
    EXPECT_FALSE(a.reply) << line;
    EXPECT_FALSE(a.call) << line;
  }
}

TEST(McpProtocol, PingAnswersWithAnEmptyResult) {
  Protocol p;
  json r = answer(p, R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
  EXPECT_EQ(r["result"], json::object());
}

TEST(McpProtocol, ToolsListGivesEveryToolWithADescriptionAndAnObjectSchema) {
  Protocol p;
  json tools = answer(p, R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})")["result"]["tools"];
  std::vector<std::string> names;
  for (const auto& t : tools) {
    names.push_back(t["name"]);
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t["name"];
    EXPECT_GT(t["description"].get<std::string>().size(), 40u) << t["name"];
  }
  for (const char* n : {"shell_run", "terminal_start", "task_output", "task_wait", "task_kill", "task_send",
                        "task_list", "task_status", "task_restart", "task_edit"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  }
}

TEST(McpProtocol, ToolsCallIsHandedOnWithItsArguments) {
  Protocol p;
  Action a = p.handle_line(
      R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"task_list","arguments":{"all":true}}})");
  EXPECT_FALSE(a.reply);
  ASSERT_TRUE(a.call);
  EXPECT_EQ(a.call->id, 5);
  EXPECT_EQ(a.call->tool->name, "task_list");
  EXPECT_EQ(a.call->arguments, json({{"all", true}}));
}

TEST(McpProtocol, ToolsCallOfAnUnknownToolIsInvalidParamsNamingTheTools) {
  Protocol p;
  json r = answer(p, R"({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"rm_rf"}})");
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("shell_run"), std::string::npos);
  r = answer(p, R"({"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"task_list","arguments":[]}})");
  EXPECT_EQ(r["error"]["code"], -32602);
}

TEST(McpProtocol, SetLevelChangesTheLevelAndRejectsAnUnknownOne) {
  Protocol p;
  EXPECT_EQ(p.log_level(), LogLevel::info);
  EXPECT_TRUE(answer(p, R"({"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"error"}})")
                  .contains("result"));
  EXPECT_EQ(p.log_level(), LogLevel::error);
  json r = answer(p, R"({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"loud"}})");
  EXPECT_EQ(r["error"]["code"], -32602);
  EXPECT_EQ(p.log_level(), LogLevel::error);
}

TEST(McpProtocol, ACancelledNotificationNamesTheRequest) {
  Protocol p;
  Action a = p.handle_line(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":12}})");
  EXPECT_FALSE(a.reply);
  ASSERT_TRUE(a.cancel);
  EXPECT_EQ(*a.cancel, 12);
}

TEST(McpArguments, AMissingRequiredArgumentIsNamed) {
  const Tool* tool = find_tool("shell_run");
  ASSERT_NE(tool, nullptr);
  try {
    check_arguments(tool->input_schema, json::object());
    FAIL() << "no error";
  } catch (const ToolError& e) {
    EXPECT_NE(std::string(e.what()).find("missing argument \"command\""), std::string::npos) << e.what();
  }
}

TEST(McpArguments, AnUnknownArgumentIsNamedWithTheKnownOnes) {
  const Tool* tool = find_tool("task_kill");
  try {
    check_arguments(tool->input_schema, {{"id", 1}, {"force", true}});
    FAIL() << "no error";
  } catch (const ToolError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("\"force\""), std::string::npos) << what;
    EXPECT_NE(what.find("grace_s"), std::string::npos) << what;
  }
}

TEST(McpArguments, AValueOfTheWrongTypeOrRangeIsNamed) {
  const Tool* tool = find_tool("task_wait");
  EXPECT_THROW(check_arguments(tool->input_schema, {{"ids", 3}}), ToolError);
  EXPECT_THROW(check_arguments(tool->input_schema, {{"ids", json::array({true})}}), ToolError);
  EXPECT_THROW(check_arguments(tool->input_schema, {{"ids", json::array()}}), ToolError);
  EXPECT_THROW(check_arguments(tool->input_schema, {{"ids", {1}}, {"timeout_s", -1}}), ToolError);
  EXPECT_THROW(check_arguments(find_tool("shell_run")->input_schema, {{"command", "x"}, {"env", {{"A", 1}}}}),
               ToolError);
}

TEST(McpArguments, NullsAreLeftOutAndWholeNumbersBecomeIntegers) {
  json checked =
      check_arguments(find_tool("task_output")->input_schema, {{"id", 3}, {"since", 120.0}, {"grep", nullptr}});
  EXPECT_EQ(checked, json({{"id", 3}, {"since", 120}}));
  EXPECT_TRUE(checked["since"].is_number_integer());
  EXPECT_THROW(check_arguments(find_tool("task_output")->input_schema, {{"id", 3}, {"since", 1.5}}), ToolError);
}

}  // namespace
}  // namespace tend::mcp
