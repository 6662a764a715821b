#include "job_schedule.h"

#include <algorithm>

namespace bkp {

JobSchedule::JobSchedule(std::vector<std::string> destinations, size_t parallel)
    : destinations_(std::move(destinations)),
      states_(destinations_.size(), State::waiting),
      parallel_(std::max<size_t>(parallel, 1)) {}

bool JobSchedule::destination_busy(const std::string& destination) const {
  for (size_t i = 0; i < states_.size(); ++i)
    if (states_[i] == State::running && destinations_[i] == destination) return true;
  return false;
}

std::optional<size_t> JobSchedule::start_next() {
  if (stopped_ || running() >= parallel_) return std::nullopt;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i] != State::waiting || destination_busy(destinations_[i])) continue;
    states_[i] = State::running;
    return i;
  }
  return std::nullopt;
}

void JobSchedule::finished(size_t job) { states_.at(job) = State::finished; }

size_t JobSchedule::running() const { return static_cast<size_t>(std::count(states_.begin(), states_.end(), State::running)); }

bool JobSchedule::done() const {
  if (running() > 0) return false;
  return stopped_ || std::none_of(states_.begin(), states_.end(), [](State s) { return s == State::waiting; });
}

std::vector<size_t> JobSchedule::not_started() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < states_.size(); ++i)
    if (states_[i] == State::waiting) out.push_back(i);
  return out;
}

}  // namespace bkp
