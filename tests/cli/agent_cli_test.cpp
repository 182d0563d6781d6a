// tend agent ...: the CLI over the daemon's agent.* methods, on real repositories.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "cli/cli_support.hpp"
#include "support/git_repo.hpp"

namespace tend::test {
namespace {

using namespace std::chrono_literals;

class AgentCli : public ::testing::Test {
 protected:
  TendHome home;
  TestRepo repo;
  Result agent(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
    args.insert(args.begin(), "agent");
    return home.tend(args, 60s, env);
  }
  std::string spawn(const std::string& task, const std::string& script,
                    std::vector<std::pair<std::string, std::string>> env = {}) {
    Result r = agent({"spawn", "--task", task, "--repo", repo.path().string(), "--", "sh", "-c", script}, env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return agents::trim_right(r.out);
  }
};

TEST_F(AgentCli, TwoAgentsMergeAndTheConflictIsNamedThenResolved) {
  repo.git({"checkout", "--quiet", "-b", "mine"});
  const std::string before = repo.user_state();
  std::string a = spawn("say B1", "sed -i 's/line two/B1/' shared.txt && echo 'changed line two' > \"$TEND_RESULT_FILE\"");
  std::string b = spawn("say B2", "sed -i 's/line two/B2/' shared.txt");
  EXPECT_EQ(a, "1");
  EXPECT_EQ(b, "2");
  Result waited = agent({"wait", a, b, "--timeout", "60s"});
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;

  nlohmann::json status = nlohmann::json::parse(agent({"status", a, "--json"}).out);
  for (const char* key : {"id", "task", "status", "branch", "worktree", "commit", "success", "summary"}) {
    EXPECT_TRUE(status.contains(key)) << key;
  }
  EXPECT_EQ(status["status"], "completed");
  EXPECT_EQ(status["success"], true);
  EXPECT_EQ(status["branch"], "tend/1");
  EXPECT_EQ(status["summary"], "changed line two\n");
  EXPECT_NE(agent({"diff", a}).out.find("+B1"), std::string::npos);
  EXPECT_NE(agent({"diff", a, "--stat"}).out.find("1 file changed"), std::string::npos);

  EXPECT_EQ(agent({"merge", a, "--into", "main"}).exit_code, 0);
  const std::string main_after_a = repo.head("main");
  Result conflict = agent({"merge", b, "--into", "main", "--json"});
  EXPECT_EQ(conflict.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(conflict.out)["conflicts"], nlohmann::json::array({"shared.txt"}));
  EXPECT_EQ(repo.head("main"), main_after_a);
  Result plain = agent({"merge", b, "--into", "main"});
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_NE(plain.out.find("shared.txt"), std::string::npos);
  EXPECT_NE(plain.out.find("resolve with: tend agent resolve " + b + " --ours|--theirs"), std::string::npos) << plain.out;

  Result resolved = agent({"resolve", b, "--theirs"});
  EXPECT_EQ(resolved.exit_code, 0) << resolved.err;
  EXPECT_EQ(repo.show("main", "shared.txt"), "line one\nB2\nline three");
  EXPECT_EQ(repo.user_state(), before);

  // Both were merged (a's line since overwritten by b's): gc takes both.
  Result gc = agent({"gc", "--repo", repo.path().string(), "--json"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  nlohmann::json collected = nlohmann::json::parse(gc.out);
  EXPECT_EQ(collected["removed"], nlohmann::json::array({a, b})) << gc.out;
  EXPECT_EQ(collected["kept"], nlohmann::json::array()) << gc.out;
}

TEST_F(AgentCli, StatusSaysWhyAnAgentFailedInWords) {
  std::string id = spawn("fail", "echo 'compiler says no' >&2; exit 3");
  EXPECT_EQ(agent({"wait", id}).exit_code, 1);
  Result status = agent({"status", id});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("agent " + id + ": failed (the agent exited with code 3)"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("(failure)"), std::string::npos) << status.out;
  nlohmann::json a = nlohmann::json::parse(agent({"status", id, "--json"}).out);
  EXPECT_EQ(a["reason"], "the agent exited with code 3");

  ASSERT_EQ(home.tend({"daemon", "stop"}).exit_code, 0);  // the reason is kept with the ticket
  EXPECT_EQ(nlohmann::json::parse(agent({"status", id, "--json"}).out)["reason"], "the agent exited with code 3");
}

TEST_F(AgentCli, ABaseThatIsNotALocalBranchIsRefusedAtSpawnNamingIt) {
  repo.git({"tag", "v1"});
  repo.git({"update-ref", "refs/remotes/origin/main", "HEAD"});
  repo.write("second.txt", "2\n");
  repo.commit_all("second");
  for (const std::string base : {"nosuch", "main~1", "v1", "origin/main", "../etc"}) {
    Result r = agent({"spawn", "--task", "x", "--repo", repo.path().string(), "--base", base, "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << base << ": " << r.out << r.err;
    EXPECT_EQ(r.out, "") << base;
    EXPECT_NE(r.err.find("base \"" + base + "\" is not a local branch"), std::string::npos) << r.err;
  }
  EXPECT_EQ(spawn("from main", "true"), "1");  // no ticket number was used up
  nlohmann::json listed = nlohmann::json::parse(agent({"ls", "--json"}).out);
  EXPECT_EQ(listed.size(), 1u) << listed.dump();
}

TEST_F(AgentCli, BadCopyPathsAreRefusedAtSpawnInWords) {
  std::filesystem::create_directories(repo.temp() / "outside");
  TestRepo::write_in(repo.temp() / "outside", "secret.txt", "s\n");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {".git/config", ".git is git's own"},
      {"missing.env", "no such file or directory"},
      {"/etc/passwd", "absolute path"},
      {"../outside/secret.txt", "outside the repository"},
  };
  for (const auto& [file, why] : refused) {
    Result r = agent({"spawn", "--task", "x", "--repo", repo.path().string(), "--copy", file, "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << file << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("cannot copy \"" + file + "\": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("filesystem error"), std::string::npos) << r.err;
  }
  EXPECT_EQ(spawn("nothing copied", "true"), "1");
}

TEST_F(AgentCli, LsLeavesOutAgentMachineryAndNamesTheTicketOfAnAgentsTask) {
  std::string ok = spawn("works", "true");
  std::string bad = home.tend({"agent", "spawn", "--task", "fails", "--repo", repo.path().string(), "--setup", "true",
                               "--", "sh", "-c", "exit 1"}).out;
  bad = agents::trim_right(bad);
  ASSERT_EQ(agent({"wait", ok}).exit_code, 0);
  ASSERT_EQ(agent({"wait", bad}).exit_code, 1);

  auto names_in = [&](std::vector<std::string> args) {
    args.push_back("--json");
    std::vector<std::string> names;
    const nlohmann::json listed = home.tend_json(args);  // kept: the loop reads into it
    for (const auto& t : listed["tasks"]) names.push_back(t["name"].get<std::string>());
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> agents_only = {"agent-" + ok, "agent-" + bad};
  EXPECT_EQ(names_in({"ls"}), agents_only);
  EXPECT_EQ(names_in({"ls", "--all"}), agents_only);
  const std::vector<std::string> everything = {"agent-" + ok, "agent-" + bad, "setup-" + bad, "worker-" + ok,
                                               "worker-" + bad};
  EXPECT_EQ(names_in({"ls", "--internal"}), everything);
  EXPECT_EQ(names_in({"ls", "--all", "--internal"}), everything);

  Result table = home.tend({"ls"});
  EXPECT_EQ(table.out.find("worker-"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("[ticket " + ok + "] sh -c true"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("[ticket " + bad + "] sh -c 'exit 1'"), std::string::npos) << table.out;

  ASSERT_EQ(home.tend({"daemon", "stop"}).exit_code, 0);  // a new daemon reads the tasks back as they were
  EXPECT_EQ(names_in({"ls"}), agents_only);
  EXPECT_EQ(names_in({"ls", "--internal"}), everything);
}

TEST_F(AgentCli, CancelKeepsTheBranchRmRefusesAndGcKeepsIt) {
  std::string tag = unique_tag();
  std::pair<std::string, std::string> marker{tag.substr(0, tag.find('=')), tag.substr(tag.find('=') + 1)};
  ASSERT_EQ(agent({"ls"}).exit_code, 0);  // the daemon starts now, without the marker
  std::string id = spawn("long", "echo partial > partial.txt; sleep 1000", {marker});
  ASSERT_TRUE(eventually([&] { return processes_with(tag).size() >= 2; }, 20s));
  Result cancelled = agent({"cancel", id});
  EXPECT_EQ(cancelled.exit_code, 0) << cancelled.err;
  EXPECT_TRUE(processes_with(tag).empty());
  EXPECT_EQ(nlohmann::json::parse(agent({"status", id, "--json"}).out)["status"], "cancelled");
  EXPECT_EQ(repo.show("tend/" + id, "partial.txt"), "partial");

  Result rm = agent({"rm", id});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_NE(rm.err.find("not merged"), std::string::npos) << rm.err;
  Result gc = home.tend({"agent", "gc", "--repo", repo.path().string(), "--json"});
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_EQ(nlohmann::json::parse(gc.out)["kept"][0]["id"], id);
  EXPECT_EQ(agent({"rm", id, "--force"}).exit_code, 0);
  EXPECT_EQ(repo.git({"branch", "--list", "tend/" + id}), "");
}

TEST_F(AgentCli, WaitAnyReturnsTheFirstAndTimesOutWith124) {
  std::string slow = spawn("slow", "sleep 30");
  std::string fast = spawn("fast", "true");
  Result any = agent({"wait", slow, fast, "--any", "--json"});
  EXPECT_EQ(any.exit_code, 0) << any.err;
  EXPECT_EQ(nlohmann::json::parse(any.out)["finished"], nlohmann::json::array({fast}));
  EXPECT_EQ(agent({"wait", slow, "--timeout", "100ms"}).exit_code, 124);
  EXPECT_EQ(agent({"cancel", slow}).exit_code, 0);
}

TEST_F(AgentCli, AgentsOutliveADaemonRestart) {
  std::string done = spawn("finished before", "echo kept > kept.txt");
  ASSERT_EQ(agent({"wait", done}).exit_code, 0);
  std::string stopped = spawn("stopped by the daemon's shutdown", "sleep 1000");
  ASSERT_EQ(home.tend({"daemon", "stop"}).exit_code, 0);

  nlohmann::json before = nlohmann::json::parse(agent({"status", done, "--json"}).out);  // a new daemon
  EXPECT_EQ(before["status"], "completed");
  EXPECT_EQ(before["branch"], "tend/" + done);
  EXPECT_EQ(nlohmann::json::parse(agent({"status", stopped, "--json"}).out)["status"], "cancelled");
  EXPECT_EQ(agent({"merge", done, "--into", "main"}).exit_code, 0);
  EXPECT_EQ(repo.show("main", "kept.txt"), "kept");

  // A daemon that dies mid-work cannot say how its workers ended: lost.
  std::string cut = spawn("cut short", "sleep 1000");
  ASSERT_TRUE(eventually([&] {
    return nlohmann::json::parse(agent({"status", cut, "--json"}).out)["status"] == "in_progress";
  }, 20s));
  auto pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  ASSERT_GT(pid, 1);  // never kill(0) or kill(-1): that would hit the test itself
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }, 20s));
  nlohmann::json lost = nlohmann::json::parse(agent({"status", cut, "--json"}).out);
  EXPECT_EQ(lost["status"], "failed");
  EXPECT_NE(lost["summary"].get<std::string>().find("lost"), std::string::npos) << lost.dump();
  std::string next = spawn("after the restarts", "true");
  EXPECT_EQ(next, "4");
  EXPECT_EQ(agent({"wait", next}).exit_code, 0);
}

TEST_F(AgentCli, BadRequestsAreUsageErrorsOrClearRefusals) {
  EXPECT_EQ(agent({"merge", "42"}).exit_code, 2);
  EXPECT_EQ(agent({"merge", "1", "--strategy", "octopus"}).exit_code, 2);
  EXPECT_EQ(agent({"spawn", "--task", "x"}).exit_code, 2);
  EXPECT_EQ(agent({"resolve", "1"}).exit_code, 2);
  Result not_repo = agent({"spawn", "--task", "x", "--repo", repo.temp().string(), "--", "true"});
  EXPECT_EQ(not_repo.exit_code, 1);
  EXPECT_NE(not_repo.err.find("not in a git repository"), std::string::npos) << not_repo.err;

  repo.git({"checkout", "--quiet", "-b", "elsewhere"});
  repo.write("x.txt", "x\n");
  repo.commit_all("elsewhere moves");
  Result spawned = agent({"spawn", "--task", "on main", "--repo", repo.path().string(), "--base", "main", "--", "sh", "-c",
                          "echo y > y.txt"});
  ASSERT_EQ(spawned.exit_code, 0) << spawned.err;
  std::string id = agents::trim_right(spawned.out);
  ASSERT_EQ(agent({"wait", id}).exit_code, 0);
  repo.git({"checkout", "--quiet", "main"});
  Result ff = agent({"merge", id, "--into", "elsewhere", "--strategy", "ff"});
  EXPECT_EQ(ff.exit_code, 1);
  EXPECT_NE(ff.err.find("cannot fast-forward"), std::string::npos) << ff.err;
}

}  // namespace
}  // namespace tend::test

namespace tend::test {
namespace {

TEST_F(AgentCli, RepeatableSpawnOptionsRightBeforeTheCommandLeaveTheCommandAlone) {
  repo.write("notes.local", "copied\n");  // untracked: only --copy brings it
  Result r = agent({"spawn", "--task", "read notes", "--repo", repo.path().string(), "--scrub-secrets",
                    "--constraint", "style=short", "--keep-env", "KEPT_TOKEN", "--copy", "notes.local", "--", "sh",
                    "-c", "cat notes.local > \"$TEND_RESULT_FILE\"; echo \"$KEPT_TOKEN\" >> \"$TEND_RESULT_FILE\""},
                   {{"KEPT_TOKEN", "kept"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = agents::trim_right(r.out);
  ASSERT_EQ(agent({"wait", id, "--timeout", "60s"}).exit_code, 0);
  nlohmann::json status = nlohmann::json::parse(agent({"status", id, "--json"}).out);
  EXPECT_EQ(status["summary"], "copied\nkept\n") << status.dump();
  EXPECT_EQ(status["constraints"], nlohmann::json({{"style", "short"}})) << status.dump();
}

}  // namespace
}  // namespace tend::test
