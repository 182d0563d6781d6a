#include "output_printer.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <vector>

#include <fmt/format.h>

namespace tend::cli {
namespace {

int index_of(const std::string& stream) { return stream == "stderr" ? 1 : 0; }

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string decode_base64(std::string_view in) {
  static constexpr std::string_view table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    auto v = table.find(c);
    if (v == std::string_view::npos) continue;  // '=' padding
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

bool OutputPrinter::open_files(const json& files) {
  for (int i = 0; i < 2; ++i) {
    std::string path = files.value(i == 0 ? "stdout" : "stderr", "");
    if (path == paths_[i] && files_[i]) continue;
    files_[i].reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!files_[i]) return false;
    paths_[i] = path;
  }
  return true;
}

void OutputPrinter::copy_from_file(int out_fd, int file_fd, std::uint64_t at, std::uint64_t size) {
  auto offset = static_cast<off_t>(at);
  const off_t end = static_cast<off_t>(at + size);
  // sendfile: no copy through our memory, whatever our stdout is (a file, a
  // pipe, a terminal); read and write where it refuses.
  while (offset < end) {
    ssize_t n = ::sendfile(out_fd, file_fd, &offset, static_cast<std::size_t>(std::min<off_t>(end - offset, 1 << 30)));
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EINVAL || errno == ENOSYS)) break;
    return;  // the reader went away, or the file is shorter than told
  }
  std::vector<char> buffer(1 << 20);
  while (offset < end) {
    ssize_t n = ::pread(file_fd, buffer.data(), static_cast<std::size_t>(std::min<off_t>(end - offset, 1 << 20)), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    write_all(out_fd, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    offset += n;
  }
}

void OutputPrinter::say_dropped(const std::string& stream, std::uint64_t at, std::uint64_t size) {
  std::cout.flush();
  std::cerr << fmt::format("tend: [{} bytes of {} left out here by the task's log limit (cursors {} to {})]\n", size,
                           stream, at, at + size);
}

bool OutputPrinter::print(const json& answer) {
  const json& parts = answer.at("parts");
  const bool from_files = !answer.contains("data_base64") && !answer.contains("data");
  if (from_files && !parts.empty() && !open_files(answer.at("files"))) return false;
  std::string data;
  if (answer.contains("data_base64")) data = decode_base64(answer["data_base64"].get<std::string>());
  if (answer.contains("data")) data = answer["data"].get<std::string>();
  std::size_t pos = 0;
  for (const auto& part : parts) {
    const std::string stream = part.at(0);
    const auto at = part.at(1).get<std::uint64_t>();
    const auto size = part.at(2).get<std::uint64_t>();
    if (part.size() > 3) {
      say_dropped(stream, at, size);
      continue;
    }
    const int out_fd = index_of(stream) == 0 ? 1 : 2;
    if (from_files) {
      copy_from_file(out_fd, files_[index_of(stream)].get(), at, size);
    } else {
      write_all(out_fd, std::string_view(data).substr(std::min(pos, data.size()), static_cast<std::size_t>(size)));
      pos += static_cast<std::size_t>(size);
    }
    printed_ += size;
  }
  return true;
}

json follow_output(Client& client, const json& id, const FollowFrom& from) {
  OutputPrinter printer;
  json cursors = {{"stdout", from.stdout_cursor}, {"stderr", from.stderr_cursor}};
  bool by_file = true;
  while (true) {
    // The daemon holds the request until there is output or the task ends.
    json p = {{"id", id},          {"stream", from.stream},  {"cursors", cursors},
              {"wait_ms", 60'000}, {"max_bytes", 64 << 20}};
    if (by_file) {
      p["by_file"] = true;
    } else {
      p["encoding"] = "base64";
    }
    json r = client.call("task.output", p);
    if (!printer.print(r)) {
      by_file = false;  // the files are not ours to open here: have the bytes sent
      continue;
    }
    cursors = r["next_cursors"];
    if (r["eof"].get<bool>()) break;
  }
  return client.call("task.status", {{"id", id}});
}

int wait_exit_code(const json& task) { return task.value("state", "") == "succeeded" ? 0 : 1; }

}  // namespace tend::cli
