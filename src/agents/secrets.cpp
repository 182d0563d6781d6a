#include "tend/agents/secrets.hpp"

#include <algorithm>
#include <array>

extern char** environ;

namespace tend::agents {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool kept(std::string_view name, const std::vector<std::string>& keep) {
  return std::find(keep.begin(), keep.end(), name) != keep.end();
}

}  // namespace

bool is_secret_name(std::string_view name) {
  static constexpr std::array<std::string_view, 5> exact = {"GITHUB_TOKEN", "GH_TOKEN", "NPM_TOKEN", "GITLAB_TOKEN",
                                                            "DATABASE_URL"};
  static constexpr std::array<std::string_view, 3> prefixes = {"AWS_", "AZURE_CLIENT_", "GOOGLE_APPLICATION_CREDENTIALS"};
  static constexpr std::array<std::string_view, 8> suffixes = {"_API_KEY", "_APIKEY", "_TOKEN", "_SECRET",
                                                               "_SECRET_KEY", "_PASSWORD", "_PASSWD", "_CREDENTIALS"};
  if (std::find(exact.begin(), exact.end(), name) != exact.end()) return true;
  for (auto p : prefixes) {
    if (starts_with(name, p)) return true;
  }
  for (auto s : suffixes) {
    if (ends_with(name, s)) return true;
  }
  return false;
}

std::vector<std::string> scrub_secrets(std::vector<std::pair<std::string, std::string>>& env,
                                       const std::vector<std::string>& keep) {
  std::vector<std::string> removed;
  std::erase_if(env, [&](const auto& kv) {
    if (!is_secret_name(kv.first) || kept(kv.first, keep)) return false;
    removed.push_back(kv.first);
    return true;
  });
  return removed;
}

std::vector<std::string> secret_names_in_environment(const std::vector<std::string>& keep) {
  std::vector<std::string> names;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (is_secret_name(name) && !kept(name, keep)) names.emplace_back(name);
  }
  return names;
}

}  // namespace tend::agents
