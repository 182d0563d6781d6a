#include "tend/core/supervisor.hpp"

#include <future>
#include <thread>

#include <boost/asio.hpp>

#include "engine.hpp"

namespace tend {

struct Supervisor::OwnThread {
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
};

Supervisor::Supervisor(SupervisorOptions options) : own_io_(std::make_unique<asio::io_context>(1)) {
  engine_ = std::make_shared<Engine>(own_io_->get_executor(), std::move(options));
  engine_->start();
  thread_ = std::make_unique<OwnThread>(OwnThread{asio::make_work_guard(*own_io_), {}});
  thread_->thread = std::thread([io = own_io_.get()] { io->run(); });
}

Supervisor::Supervisor(asio::io_context& io, SupervisorOptions options)
    : engine_(std::make_shared<Engine>(io.get_executor(), std::move(options))) {
  engine_->start();
}

Supervisor::~Supervisor() {
  if (thread_) {
    // Stop our thread first, so what follows runs alone.
    thread_->work.reset();
    own_io_->stop();
    thread_->thread.join();
  }
  engine_->close_now();
  thread_.reset();
  // The engine before the io_context: what is left of it (held by suspended
  // operations) goes when the context destroys those operations.
  engine_.reset();
  own_io_.reset();
}

asio::any_io_executor Supervisor::get_executor() const { return engine_->executor(); }

const SupervisorOptions& Supervisor::options() const { return engine_->options(); }

template <typename T>
T Supervisor::block_on(asio::awaitable<T> op) const {
  if (engine_->on_executor_thread()) {
    throw std::logic_error("tend: a blocking Supervisor call on its own executor would wait forever; co_await the "
                           "async_ form instead");
  }
  return asio::co_spawn(engine_->executor(), std::move(op), asio::use_future).get();
}

// Runs `fn` on the executor and returns its result (rethrowing its exception).
template <typename Fn>
static auto on_executor(Engine& engine, Fn fn) -> decltype(fn()) {
  if (engine.on_executor_thread()) return fn();
  std::packaged_task<decltype(fn())()> job(std::move(fn));
  auto result = job.get_future();
  asio::dispatch(engine.executor(), [&job] { job(); });
  return result.get();
}

TaskPtr Supervisor::run(TaskSpec spec) {
  return on_executor(*engine_, [&] { return engine_->run(std::move(spec)); });
}

TaskPtr Supervisor::find(TaskId id) const { return engine_->find(id); }

std::vector<TaskPtr> Supervisor::tasks() const { return engine_->tasks(); }

void Supervisor::forget(const TaskPtr& task) {
  on_executor(*engine_, [&] { engine_->forget(task); });
}

void Supervisor::discard(const TaskPtr& task) {
  on_executor(*engine_, [&] { engine_->discard(task); });
}

std::optional<TaskStatus> Supervisor::poll(const TaskPtr& task) const {
  TaskStatus status = task->status();
  if (!status.finished()) return std::nullopt;
  return status;
}

asio::awaitable<std::optional<TaskStatus>> Supervisor::async_wait(TaskPtr task, std::optional<Duration> timeout,
                                                                  OnTimeout on_timeout) {
  return engine_->wait(std::move(task), timeout, on_timeout);
}

asio::awaitable<std::optional<TaskPtr>> Supervisor::async_wait_any(std::vector<TaskPtr> tasks,
                                                                   std::optional<Duration> timeout) {
  return engine_->wait_any(std::move(tasks), timeout);
}

asio::awaitable<std::vector<TaskPtr>> Supervisor::async_wait_all(std::vector<TaskPtr> tasks,
                                                                 std::optional<Duration> timeout) {
  return engine_->wait_all(std::move(tasks), timeout);
}

std::optional<TaskStatus> Supervisor::wait(const TaskPtr& task, std::optional<Duration> timeout,
                                           OnTimeout on_timeout) {
  return block_on(engine_->wait(task, timeout, on_timeout));
}

std::optional<TaskPtr> Supervisor::wait_any(const std::vector<TaskPtr>& tasks, std::optional<Duration> timeout) {
  return block_on(engine_->wait_any(tasks, timeout));
}

std::vector<TaskPtr> Supervisor::wait_all(const std::vector<TaskPtr>& tasks, std::optional<Duration> timeout) {
  return block_on(engine_->wait_all(tasks, timeout));
}

void Supervisor::stop(const TaskPtr& task, std::optional<StopLadder> ladder) {
  on_executor(*engine_, [&] { engine_->stop(task, std::move(ladder), StopCause::request); });
}

asio::awaitable<TaskStatus> Supervisor::async_stop(TaskPtr task, std::optional<StopLadder> ladder) {
  return engine_->stop_and_wait(std::move(task), std::move(ladder), StopCause::request);
}

TaskStatus Supervisor::stop_and_wait(const TaskPtr& task, std::optional<StopLadder> ladder) {
  return block_on(engine_->stop_and_wait(task, std::move(ladder), StopCause::request));
}

bool Supervisor::kill(const TaskPtr& task, int signal) {
  return on_executor(*engine_, [&] { return engine_->kill(task, signal); });
}

TaskPtr Supervisor::restore(TaskSpec spec, TaskStatus recorded) {
  return on_executor(*engine_, [&] { return engine_->restore(std::move(spec), std::move(recorded)); });
}

TaskPtr Supervisor::submit(TaskSpec spec) {
  return on_executor(*engine_, [&] { return engine_->submit(std::move(spec)); });
}

TaskPtr Supervisor::submit(TaskSpec spec, Hold hold) {
  return on_executor(*engine_, [&] { return engine_->submit(std::move(spec), hold); });
}

void Supervisor::release(const TaskPtr& task, std::optional<Clock::time_point> start_at) {
  on_executor(*engine_, [&] { engine_->release(task, start_at); });
}

void Supervisor::start_now(const TaskPtr& task) {
  on_executor(*engine_, [&] { engine_->start_now(task); });
}

void Supervisor::set_parallel(const std::string& group, std::size_t limit) {
  on_executor(*engine_, [&] { engine_->set_parallel(group, limit); });
}

void Supervisor::edit(const TaskPtr& task, TaskSpec spec) {
  on_executor(*engine_, [&] { engine_->edit(task, std::move(spec)); });
}

std::size_t Supervisor::parallel(const std::string& group) const {
  return on_executor(*engine_, [&] { return engine_->parallel(group); });
}

TaskPtr Supervisor::spawn(std::string name, CoroutineBody body, std::optional<Duration> timeout) {
  return spawn(std::move(name), std::move(body), InProcessOptions{.timeout = timeout, .owner = {}, .internal = false});
}

TaskPtr Supervisor::spawn_thread(std::string name, ThreadBody body, std::optional<Duration> timeout) {
  return spawn_thread(std::move(name), std::move(body), InProcessOptions{.timeout = timeout, .owner = {}, .internal = false});
}

TaskPtr Supervisor::spawn(std::string name, CoroutineBody body, InProcessOptions options) {
  return on_executor(*engine_, [&] { return engine_->spawn_coroutine(std::move(name), std::move(body), std::move(options)); });
}

TaskPtr Supervisor::spawn_thread(std::string name, ThreadBody body, InProcessOptions options) {
  return on_executor(*engine_, [&] { return engine_->spawn_thread(std::move(name), std::move(body), std::move(options)); });
}

bool Supervisor::pause(const TaskPtr& task) {
  return on_executor(*engine_, [&] { return engine_->pause(task); });
}

bool Supervisor::resume(const TaskPtr& task) {
  return on_executor(*engine_, [&] { return engine_->resume(task); });
}

void Supervisor::send(const TaskPtr& task, std::string bytes) {
  on_executor(*engine_, [&] { engine_->send(task, std::move(bytes)); });
}

void Supervisor::close_input(const TaskPtr& task) {
  on_executor(*engine_, [&] { engine_->close_input(task); });
}

void Supervisor::resize(const TaskPtr& task, unsigned short rows, unsigned short cols) {
  on_executor(*engine_, [&] { engine_->resize(task, rows, cols); });
}

void Supervisor::record_activity(const TaskPtr& task) {
  on_executor(*engine_, [&] { engine_->record_activity(task); });
}

asio::awaitable<void> Supervisor::async_wait_ready(TaskPtr task, Duration timeout) {
  return engine_->wait_ready(std::move(task), timeout);
}

void Supervisor::wait_ready(const TaskPtr& task, Duration timeout) { block_on(engine_->wait_ready(task, timeout)); }

Subscription Supervisor::subscribe(EventCallback callback, bool with_output) {
  return engine_->subscribe(std::move(callback), with_output);
}

asio::awaitable<void> Supervisor::async_shutdown() { return engine_->shutdown(); }

void Supervisor::shutdown() { block_on(engine_->shutdown()); }

}  // namespace tend
