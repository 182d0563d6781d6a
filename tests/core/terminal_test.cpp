#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"
#include "tend/core/terminal_text.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

std::string plain_output(const Task& task) { return strip_ansi(task.output().read(0).data); }

bool output_contains(const Task& task, std::string_view text) {
  return plain_output(task).find(text) != std::string::npos;
}

}  // namespace

TEST(Terminal, AProgramOnATerminalSeesATty) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::terminal_shell("python3 -c 'import sys; print(sys.stdout.isatty(), sys.stdin.isatty())'"));
  auto status = sup.wait(task, Duration(20s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_EQ(plain_output(*task), "True True\n");
}

TEST(Terminal, PipesWhenAskedAreNotATty) {
  Supervisor sup;
  auto spec = TaskSpec::terminal_shell("python3 -c 'import sys; print(sys.stdout.isatty())'");
  spec.use_pty = false;
  auto task = sup.run(spec);
  sup.wait(task, Duration(20s));
  EXPECT_EQ(task->output().read(0).data, "False\n");
}

TEST(Terminal, SttySizeReportsTheWindowSizeThatWasSet) {
  Supervisor sup;
  auto spec = TaskSpec::terminal_shell("stty size; echo TERM=$TERM");
  spec.terminal.rows = 37;
  spec.terminal.cols = 121;
  auto task = sup.run(spec);
  sup.wait(task, Duration(20s));
  EXPECT_EQ(plain_output(*task), "37 121\nTERM=xterm-256color\n");
}

TEST(Terminal, ResizeReachesTheProgram) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::terminal_shell(
      "trap 'stty size' WINCH; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(test::eventually([&] { return output_contains(*task, "ready"); }));
  sup.resize(task, 50, 160);
  EXPECT_TRUE(test::eventually([&] { return output_contains(*task, "50 160"); })) << plain_output(*task);
  sup.stop_and_wait(task);
}

TEST(Terminal, CatEchoesWhatSendWrites) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::terminal_shell("cat"));
  sup.send(task, "hello terminal\n");
  // The line discipline echoes the input, then cat writes it back.
  EXPECT_TRUE(test::eventually([&] {
    auto out = plain_output(*task);
    return out.find("hello terminal\nhello terminal\n") != std::string::npos;
  })) << plain_output(*task);
  sup.close_input(task);  // Ctrl-D: cat sees end of file
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
}

TEST(Terminal, CtrlCInterruptsSleepOnAPty) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::terminal_shell("exec sleep 100"));
  // Wait until sleep has the terminal (the shell exec'd it).
  ASSERT_TRUE(test::eventually([&] {
    auto info = process::read_process_info(task->status().pid);
    std::ifstream comm("/proc/" + std::to_string(task->status().pid) + "/comm");
    std::string name;
    comm >> name;
    return info && name == "sleep";
  }));
  sup.send(task, "\x03");
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGINT);
  EXPECT_EQ(status->state, TaskState::failed);  // the program was interrupted, not stopped by tend
}

TEST(Terminal, SendToAShellTaskNeedsAStdinPipe) {
  Supervisor sup;
  auto no_stdin = sup.run(TaskSpec::exec({"sleep", "30"}));
  EXPECT_THROW(sup.send(no_stdin, "x"), TaskError);
  EXPECT_THROW(sup.resize(no_stdin, 10, 10), TaskError);

  auto spec = TaskSpec::exec({"sort"});
  spec.stdin_mode = process::StdinMode::pipe;
  auto sorter = sup.run(spec);
  sup.send(sorter, "pear\napple\n");
  sup.send(sorter, "fig\n");
  sup.close_input(sorter);
  auto status = sup.wait(sorter, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_EQ(sorter->output().read(0).data, "apple\nfig\npear\n");
  EXPECT_THROW(sup.send(sorter, "late"), TaskError);
}

TEST(Terminal, PlainViewStripsAnsiWhileTheLogKeepsRawBytes) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::terminal_shell("printf '\\033[1;31mred\\033[0m \\033]0;title\\007done\\n'"));
  sup.wait(task, Duration(10s));
  std::string raw = task->output().read(0).data;
  EXPECT_NE(raw.find("\x1b[1;31m"), std::string::npos);
  EXPECT_EQ(strip_ansi(raw), "red done\n");
}

TEST(TerminalText, StripAnsiHandlesCommonSequences) {
  EXPECT_EQ(strip_ansi("\x1b[2J\x1b[H\x1b[?25lhi\x1b[0m"), "hi");
  EXPECT_EQ(strip_ansi("a\r\nb"), "a\nb");
  EXPECT_EQ(strip_ansi("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
  EXPECT_EQ(strip_ansi("\x1b(Bplain\x1b=\xff"), "plain\xff");
}

TEST(Pause, PauseStopsOutputAndClocksAndResumeContinues) {
  Supervisor sup;
  auto spec = TaskSpec::shell("i=0; while :; do echo $i; i=$((i+1)); sleep 0.02; done");
  spec.timeout = Duration(1500ms);
  auto task = sup.run(spec);
  ASSERT_TRUE(test::eventually([&] { return task->output().size() > 10; }));
  ASSERT_TRUE(sup.pause(task));
  EXPECT_TRUE(task->status().paused);
  // Give the last in-flight output a moment to land, then it must not grow.
  sup.wait(task, Duration(200ms));
  auto frozen = task->output().size();
  // Paused for longer than the whole timeout: the wall clock must not run out.
  EXPECT_FALSE(sup.wait(task, Duration(2s)));
  EXPECT_EQ(task->output().size(), frozen);
  EXPECT_EQ(task->state(), TaskState::running);
  ASSERT_TRUE(sup.resume(task));
  EXPECT_TRUE(test::eventually([&] { return task->output().size() > frozen; }));
  // What was left of the timeout still applies after resuming.
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::timed_out);
  EXPECT_GE(status->duration, Duration(3500ms));
}
