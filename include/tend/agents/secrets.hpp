#pragma once
// Which environment variables hold secrets, for workers that should not see
// the credentials of the shell that started them.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tend::agents {

/// True for names that usually hold credentials: AWS_*, AZURE_*, GOOGLE_*
/// credentials, GITHUB_TOKEN, GH_TOKEN, NPM_TOKEN, and any name ending in
/// _API_KEY, _TOKEN, _SECRET, _SECRET_KEY, _PASSWORD, _PASSWD or _CREDENTIALS
/// (upper case, as environment variables are written).
bool is_secret_name(std::string_view name);

/// Removes the secret variables, except those in `keep`, from `env`; returns
/// the names removed.
std::vector<std::string> scrub_secrets(std::vector<std::pair<std::string, std::string>>& env,
                                       const std::vector<std::string>& keep = {});

/// The secret variable names in this process's own environment, except `keep`.
std::vector<std::string> secret_names_in_environment(const std::vector<std::string>& keep = {});

}  // namespace tend::agents
