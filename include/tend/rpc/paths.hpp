#pragma once
// Where the daemon lives: its socket and its state directory.
//
// Socket: $TEND_SOCKET, else $XDG_RUNTIME_DIR/tend/tend.sock, else
// /tmp/tend-$UID/tend.sock (directories 0700). State: $TEND_STATE_DIR, else
// $XDG_STATE_HOME/tend, else ~/.local/state/tend.

#include <filesystem>

namespace tend::rpc {

/// The socket's and the state directory's paths from the environment, as
/// above; nothing is created.
std::filesystem::path socket_path();
std::filesystem::path state_dir();

/// Creates `dir` (and parents) with mode 0700, or checks that it exists, is
/// ours and is 0700. Throws std::runtime_error naming the problem.
void ensure_private_dir(const std::filesystem::path& dir);

}  // namespace tend::rpc
