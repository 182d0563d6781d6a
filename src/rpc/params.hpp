#pragma once
// Reading RPC params with errors that name the field and what it should be.

#include <fmt/format.h>

#include <optional>
#include <string>
#include <vector>

#include "tend/core/duration.hpp"
#include "tend/rpc/json_rpc.hpp"

namespace tend::rpc::params {

[[noreturn]] inline void bad(const char* name, const char* expected) {
  throw RpcError(error_code::invalid_params, fmt::format("invalid params: \"{}\" must be {}", name, expected));
}

template <typename T>
std::optional<T> optional(const json& p, const char* name);

template <>
inline std::optional<std::string> optional<std::string>(const json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(name, "a string");
  return it->get<std::string>();
}

template <>
inline std::optional<bool> optional<bool>(const json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) bad(name, "true or false");
  return it->get<bool>();
}

template <>
inline std::optional<std::int64_t> optional<std::int64_t>(const json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) bad(name, "a whole number");
  return it->get<std::int64_t>();
}

template <>
inline std::optional<std::vector<std::string>> optional<std::vector<std::string>>(const json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) bad(name, "a list of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) bad(name, "a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

inline std::int64_t non_negative(const json& p, const char* name, std::int64_t fallback) {
  auto v = optional<std::int64_t>(p, name);
  if (v && *v < 0) bad(name, "zero or more");
  return v.value_or(fallback);
}

/// A duration in milliseconds, checked as every duration is (duration.hpp):
/// 0 up to kMaxDuration.
inline std::optional<Duration> duration_ms(const json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) bad(name, "a whole number of milliseconds");
  auto refuse = [&](const std::string& why) {
    return RpcError(error_code::invalid_params,
                    fmt::format("invalid params: \"{}\" must be 0 to {} milliseconds ({}): {}", name,
                                kMaxDuration.count(), kMaxDurationText, why));
  };
  if (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxDuration.count())) {
    throw refuse(fmt::format("{} ms is longer than the limit of {}", it->get<std::uint64_t>(), kMaxDurationText));
  }
  try {
    return duration_of_ms(it->get<std::int64_t>());
  } catch (const DurationError& e) {
    throw refuse(e.what());
  }
}

}  // namespace tend::rpc::params
