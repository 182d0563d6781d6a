#include "completions.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace tend::python {

Completions::Completions() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void Completions::post(std::uint64_t token, Outcome outcome) {
  {
    std::lock_guard lock(mutex_);
    queued_.emplace_back(token, std::move(outcome));
  }
  // Only EAGAIN can fail here (the counter is full, so it is readable anyway).
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(fd_.get(), &one, sizeof one);
}

std::vector<std::pair<std::uint64_t, Outcome>> Completions::drain() {
  // Reset the counter first: an outcome posted after the swap below writes
  // again, so the loop comes back for it.
  std::uint64_t count = 0;
  [[maybe_unused]] auto got = ::read(fd_.get(), &count, sizeof count);
  std::vector<std::pair<std::uint64_t, Outcome>> taken;
  std::lock_guard lock(mutex_);
  taken.swap(queued_);
  return taken;
}

}  // namespace tend::python
