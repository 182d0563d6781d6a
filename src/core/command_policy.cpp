#include "tend/core/command_policy.hpp"

namespace tend {

std::string_view to_string(CommandClass c) {
  switch (c) {
    case CommandClass::quick: return "quick";
    case CommandClass::build: return "build";
    case CommandClass::long_running: return "long_running";
  }
  return "quick";
}

CommandPolicy CommandPolicy::standard() {
  CommandPolicy policy;
  // Builds: long, sometimes silent phases (linking, code generation).
  for (const char* p : {
           R"(^\s*(\S*/)?(make|gmake|ninja|bazel|bazelisk|buck2?|gradle|gradlew|mvn|msbuild|scons|meson|xcodebuild)\b)",
           R"(\bcmake\s+--build\b)", R"(\bcargo\s+(build|test|check|clippy|bench)\b)", R"(\bgo\s+(build|test)\b)",
           R"(\b(npm|pnpm|yarn|bun)\s+(run\s+)?(build|test)\b)", R"(\bdocker\s+(build|compose\s+build)\b)",
           R"(\b(tsc|webpack|rollup|esbuild)\b)", R"(\bpip3?\s+install\b)", R"(\bapt(-get)?\s+install\b)",
       }) {
    policy.add_rule(p, CommandClass::build);
  }
  // Long-running: servers and watchers are silent and endless on purpose.
  // Checked before the builds, so `tsc --watch` is a watcher, not a build.
  for (const char* p : {
           R"(\b(npm|pnpm|yarn|bun)\s+(run\s+)?(dev|start|serve|watch)\b)", R"(\bpython[0-9.]*\s+-m\s+http\.server\b)",
           R"(\b(uvicorn|gunicorn|hypercorn|daphne|nodemon|vite|http-server|live-server|serve)\b)",
           R"(\b(flask|rails|php)\s+(run|server|-S)\b)", R"(\bmanage\.py\s+runserver\b)", R"(\bnext\s+(dev|start)\b)",
           R"(\bwebpack(-dev-server|\s+serve)\b)", R"(--watch\b|\s-w\b)", R"(\bwatch(man|exec)?\s)",
           R"(\bcargo\s+watch\b)", R"(\btail\s+(-\S*\s+)*-[fF]\b)", R"(\bdocker\s+compose\s+up\b)", R"(\bdocker\s+run\b)",
           R"(\b(redis-server|postgres|mongod|memcached|nginx|caddy)\b)", R"(\bjupyter\s+(notebook|lab)\b)",
           R"(\bkubectl\s+(port-forward|logs\s+-f)\b)", R"(\bsleep\s+infinity\b)",
       }) {
    policy.add_rule(p, CommandClass::long_running);
  }
  return policy;
}

void CommandPolicy::add_rule(std::string pattern, CommandClass command_class) {
  Pattern compiled(pattern);
  rules_.push_back(Rule{std::move(pattern), command_class, std::move(compiled)});
  memo_ = std::make_shared<Memo>();
}

CommandClass CommandPolicy::classify(std::string_view command_line) const {
  std::string key(command_line);
  {
    std::lock_guard lock(memo_->mutex);
    if (auto it = memo_->answers.find(key); it != memo_->answers.end()) return it->second;
  }
  CommandClass answer = match(command_line);
  std::lock_guard lock(memo_->mutex);
  if (memo_->answers.size() >= Memo::capacity) memo_->answers.clear();
  memo_->answers.emplace(std::move(key), answer);
  return answer;
}

CommandClass CommandPolicy::match(std::string_view command_line) const {
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    if (it->compiled.search(command_line)) return it->command_class;
  }
  return CommandClass::quick;
}

TimeoutDefaults CommandPolicy::defaults_for(std::string_view command_line) const {
  switch (classify(command_line)) {
    case CommandClass::quick: return quick;
    case CommandClass::build: return build;
    case CommandClass::long_running: return long_running;
  }
  return quick;
}

}  // namespace tend
