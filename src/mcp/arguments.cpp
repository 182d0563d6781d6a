#include "arguments.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "tend/core/duration.hpp"
#include "tend/rpc/task_ref.hpp"
#include "tool.hpp"

namespace tend::mcp {
namespace {

bool has_type(const json& value, const std::string& type) {
  if (type == "string") return value.is_string();
  if (type == "integer")
    return value.is_number_integer() ||
           (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "null") return value.is_null();
  return true;
}

// A schema's "type": one name or a list of them.
bool fits(const json& value, const json& schema) {
  auto it = schema.find("type");
  if (it == schema.end()) return true;
  if (it->is_string()) return has_type(value, it->get<std::string>());
  for (const auto& t : *it) {
    if (has_type(value, t.get<std::string>())) return true;
  }
  return false;
}

std::string type_text(const json& schema) {
  auto it = schema.find("type");
  if (it == schema.end()) return "a value";
  if (it->is_string()) {
    const std::string type = it->get<std::string>();
    const bool vowel = type == "integer" || type == "array" || type == "object";
    return (vowel ? "an " : "a ") + type;
  }
  std::string text;
  for (const auto& t : *it) text += (text.empty() ? "" : " or ") + t.get<std::string>();
  return text;
}

bool listed(const json& list, const json& value) {
  return list.is_array() && std::find(list.begin(), list.end(), value) != list.end();
}

std::string shown(const json& value) {
  std::string text = value.dump();
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

}  // namespace

json check_arguments(const json& schema, const json& arguments) {
  if (!arguments.is_object()) throw ToolError("the arguments must be a JSON object");
  const json& properties = schema.contains("properties") ? schema["properties"] : json::object();
  for (const auto& name : schema.value("required", json::array())) {
    if (!arguments.contains(name.get<std::string>())) {
      auto p = properties.find(name.get<std::string>());
      throw ToolError(fmt::format("missing argument \"{}\": {}", name.get<std::string>(),
                                  p != properties.end() ? p->value("description", "") : std::string()));
    }
  }
  for (const auto& [name, value] : arguments.items()) {
    auto it = properties.find(name);
    if (it == properties.end()) {
      std::string known;
      for (const auto& [k, v] : properties.items()) known += (known.empty() ? "" : ", ") + k;
      throw ToolError(
          fmt::format("unknown argument \"{}\"; this tool takes: {}", name, known.empty() ? "none" : known));
    }
    const json& property = *it;
    if (value.is_null() && !listed(schema.value("required", json::array()), name)) continue;
    if (!fits(value, property)) {
      throw ToolError(fmt::format("argument \"{}\" must be {}, not {}", name, type_text(property), shown(value)));
    }
    if (value.is_number() && property.contains("minimum") && value.get<double>() < property["minimum"].get<double>()) {
      throw ToolError(
          fmt::format("argument \"{}\" must be at least {}, not {}", name, property["minimum"].dump(), shown(value)));
    }
    if (value.is_number() && property.contains("maximum") && value.get<double>() > property["maximum"].get<double>()) {
      throw ToolError(
          fmt::format("argument \"{}\" must be at most {}, not {}", name, property["maximum"].dump(), shown(value)));
    }
    if (value.is_array() && property.contains("items")) {
      for (const auto& item : value) {
        if (!fits(item, property["items"])) {
          throw ToolError(
              fmt::format("each item of \"{}\" must be {}, not {}", name, type_text(property["items"]), shown(item)));
        }
      }
      if (property.contains("minItems") && value.size() < property["minItems"].get<std::size_t>()) {
        throw ToolError(fmt::format("argument \"{}\" must have at least {} item(s)", name,
                                    property["minItems"].get<std::size_t>()));
      }
    }
    if (value.is_object() && property.contains("additionalProperties") &&
        property["additionalProperties"].is_object()) {
      for (const auto& [k, v] : value.items()) {
        if (!fits(v, property["additionalProperties"])) {
          throw ToolError(fmt::format("\"{}\" in \"{}\" must be {}, not {}", k, name,
                                      type_text(property["additionalProperties"]), shown(v)));
        }
      }
    }
    if (value.is_string() && property.contains("enum") && !listed(property["enum"], value)) {
      throw ToolError(
          fmt::format("argument \"{}\" must be one of {}, not {}", name, property["enum"].dump(), shown(value)));
    }
  }
  json ready = json::object();
  for (const auto& [name, value] : arguments.items()) {
    if (value.is_null()) continue;
    const json& property = properties[name];
    if (value.is_number_float() && property.value("type", json()) == "integer") {
      ready[name] = static_cast<std::int64_t>(value.get<double>());
    } else {
      ready[name] = value;
    }
  }
  return ready;
}

std::optional<std::int64_t> seconds_arg(const json& arguments, const char* name) {
  auto it = arguments.find(name);
  if (it == arguments.end() || it->is_null()) return std::nullopt;
  try {
    return duration_of_seconds(it->get<double>()).count();
  } catch (const DurationError& e) {
    throw ToolError(fmt::format("argument \"{}\" must be 0 to {} seconds ({}): {}", name,
                                kMaxDuration.count() / 1000, kMaxDurationText, e.what()));
  }
}

json task_ref(const json& value) {
  try {
    return rpc::parse_task_ref(value).to_json();
  } catch (const rpc::TaskRefError& e) {
    throw ToolError(e.what());
  }
}

}  // namespace tend::mcp
