#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

TEST(Readiness, WaitReadyReturnsOnceTheServerAcceptsOnItsPort) {
  Supervisor sup;
  // allocate_port hands a free port to the task in $PORT; ready.port = 0
  // means "that port".
  auto spec = TaskSpec::shell("exec python3 -m http.server --bind 127.0.0.1 $PORT");
  spec.allocate_port = true;
  spec.ready.port = 0;
  auto server = sup.run(spec);
  ASSERT_TRUE(server->status().port);
  sup.wait_ready(server, Duration(20s));
  EXPECT_TRUE(server->status().ready);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::address_v4::loopback(), *server->status().port}, ec);
  EXPECT_FALSE(ec) << ec.message();
  sup.stop_and_wait(server);
}

TEST(Readiness, TwoServersWithAllocatedPortsNeverCollide) {
  Supervisor sup;
  std::vector<TaskPtr> servers;
  for (int i = 0; i < 2; ++i) {
    auto spec = TaskSpec::shell("exec python3 -m http.server --bind 127.0.0.1 $PORT");
    spec.allocate_port = true;
    spec.ready.port = 0;
    servers.push_back(sup.run(spec));
  }
  for (auto& s : servers) sup.wait_ready(s, Duration(20s));
  EXPECT_NE(servers[0]->status().port, servers[1]->status().port);
  for (auto& s : servers) EXPECT_EQ(s->state(), TaskState::running);
}

TEST(Readiness, AnOutputLineMatchingThePatternMeansReady) {
  Supervisor sup;
  auto spec = TaskSpec::shell("echo booting; sleep 0.3; echo 'Listening on :8080' >&2; exec sleep 30");
  spec.ready.pattern = "Listening on :[0-9]+";
  auto task = sup.run(spec);
  auto started = std::chrono::steady_clock::now();
  sup.wait_ready(task, Duration(10s));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 250ms);
  EXPECT_TRUE(task->status().ready);
}

TEST(Readiness, AProbeCommandExitingZeroMeansReady) {
  test::TempDir dir;
  Supervisor sup;
  auto flag = (dir.path() / "up").string();
  auto spec = TaskSpec::shell("sleep 0.3; touch " + flag + "; exec sleep 30");
  spec.ready.probe = "test -e " + flag;
  auto task = sup.run(spec);
  sup.wait_ready(task, Duration(10s));
  EXPECT_TRUE(std::filesystem::exists(flag));
}

TEST(Readiness, FailsFastWithTheOutputTailWhenTheServerCrashesAtStart) {
  Supervisor sup;
  auto spec = TaskSpec::shell("echo 'loading config'; echo 'fatal: port already in use' >&2; exit 1");
  spec.ready.port = 1;  // never reached
  spec.ready.pattern = "ready";
  auto task = sup.run(spec);
  auto started = std::chrono::steady_clock::now();
  try {
    sup.wait_ready(task, Duration(30s));
    FAIL() << "should not be ready";
  } catch (const ReadinessError& e) {
    EXPECT_EQ(e.kind(), ReadinessError::Kind::exited);
    EXPECT_NE(e.output_tail().find("fatal: port already in use"), std::string::npos) << e.output_tail();
    EXPECT_NE(std::string(e.what()).find("exited with code 1"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(Readiness, TimesOutWithoutStoppingTheTask) {
  Supervisor sup;
  auto spec = TaskSpec::exec({"sleep", "30"});
  spec.ready.pattern = "never";
  auto task = sup.run(spec);
  try {
    sup.wait_ready(task, Duration(300ms));
    FAIL();
  } catch (const ReadinessError& e) {
    EXPECT_EQ(e.kind(), ReadinessError::Kind::timed_out);
  }
  EXPECT_EQ(task->state(), TaskState::running);
}
