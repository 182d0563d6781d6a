// The daemon's first contact with a client's bytes: the line splitter and
// the JSON-RPC request parser. Whatever arrives, they must answer with a
// Request or an RpcError, never crash, and the error answer must serialise.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tend/rpc/json_rpc.hpp"

using namespace tend::rpc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Lines as long as the daemon takes (kMaxRequestLine): deep nesting and long strings need room.
  LineReader reader(16u << 20);
  // Feed in uneven chunks, as a socket would deliver them.
  std::size_t chunk = size % 7 + 1;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    reader.feed(bytes.substr(at, chunk));
    while (auto line = reader.next()) {
      if (line->too_long) continue;
      try {
        Request r = parse_request(line->text);
        // The answer must be JSON again, even for params holding invalid UTF-8.
        json answer = json::parse(make_result(r.id, r.params));
        if (!answer.contains("result")) __builtin_trap();
      } catch (const RpcError& e) {
        json answer = json::parse(make_error(nullptr, e.code(), e.what(), e.data()));
        if (!answer.contains("error")) __builtin_trap();
      }
    }
  }
  return 0;
}
