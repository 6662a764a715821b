// Which job of `bkp run` starts next: in the order given, at most `parallel` at once, and
// never two at once on the same destination (the second would only find the first's lock
// and fail). Pure bookkeeping, so every rule is a unit test.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace bkp {

class JobSchedule {
 public:
  // One destination per job (absolute, normal paths); `parallel` >= 1.
  JobSchedule(std::vector<std::string> destinations, size_t parallel);

  // The first waiting job that may start now, marked as running; none while `parallel`
  // jobs run, while every waiting job's destination is busy, or after stop().
  std::optional<size_t> start_next();
  void finished(size_t job);
  // No job starts any more (bkp run was told to stop).
  void stop() { stopped_ = true; }

  size_t running() const;
  // Nothing runs and nothing will start.
  bool done() const;
  // The jobs that never started (after stop()).
  std::vector<size_t> not_started() const;

 private:
  enum class State { waiting, running, finished };
  bool destination_busy(const std::string& destination) const;

  std::vector<std::string> destinations_;
  std::vector<State> states_;
  size_t parallel_;
  bool stopped_ = false;
};

}  // namespace bkp
