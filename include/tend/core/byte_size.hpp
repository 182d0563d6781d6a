#pragma once
// Sizes in bytes (log limits), parsed and printed only here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tend {

/// Parses "1024", "500K", "64M", "1G", "2T" (powers of 1024; an optional "B"
/// or "iB" after the unit, any case) or "0". Returns nullopt for anything
/// else (empty, negative, a fraction, an unknown unit, overflow).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

/// "512 bytes", "1.5 KiB", "64.0 MiB", "1.0 GiB".
std::string format_byte_size(std::uint64_t bytes);

}  // namespace tend
