#pragma once
// Switches for tests of the process layer: which backend spawn() uses, and a
// way to make it take the posix_spawn fallback. Process-wide, so not part of
// the library's ordinary surface (spawn.hpp).

namespace tend::process {

/// How children are created: tend's own clone3 (x86-64, where the kernel
/// allows it) or posix_spawn.
enum class SpawnBackend { clone3, posix_spawn };

/// The backend spawn() uses now: clone3 unless it is unavailable here or
/// posix_spawn was asked for.
SpawnBackend spawn_backend();

/// Makes spawn() use posix_spawn (true) or go back to its own choice (false),
/// process-wide: for tests of the fallback, and for hosts that must not see
/// clone3.
void use_posix_spawn(bool on);

}  // namespace tend::process
