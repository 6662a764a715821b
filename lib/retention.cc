#include "retention.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <numeric>
#include <optional>

#include "errors.h"
#include "timestamp.h"

namespace bkp {
namespace {

constexpr int kMaxCount = 1'000'000'000;

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// ISO-8601 week: the week (Monday to Sunday) belongs to the year that holds its Thursday.
int iso_year_week(const std::tm& t) {
  const int monday_based = (t.tm_wday + 6) % 7;
  int year = t.tm_year + 1900;
  int thursday = t.tm_yday - monday_based + 3;  // day of the year of this week's Thursday
  if (thursday < 0) {
    --year;
    thursday += is_leap(year) ? 366 : 365;
  } else if (const int days = is_leap(year) ? 366 : 365; thursday >= days) {
    thursday -= days;
    ++year;
  }
  return year * 100 + thursday / 7 + 1;
}

// The calendar rules in the order of their options; `period` maps a local time to the
// number of its period (equal numbers: same period).
struct CalendarRule {
  KeepRule rule;
  int RetentionRules::*count;
  long long (*period)(const std::tm&, std::size_t index);
};

long long ymd(const std::tm& t) { return (t.tm_year + 1900LL) * 10000 + (t.tm_mon + 1) * 100 + t.tm_mday; }

const std::array<CalendarRule, 6> kCalendarRules = {{
    {KeepRule::last, &RetentionRules::last, [](const std::tm&, std::size_t i) { return static_cast<long long>(i); }},
    {KeepRule::hourly, &RetentionRules::hourly, [](const std::tm& t, std::size_t) { return ymd(t) * 100 + t.tm_hour; }},
    {KeepRule::daily, &RetentionRules::daily, [](const std::tm& t, std::size_t) { return ymd(t); }},
    {KeepRule::weekly, &RetentionRules::weekly, [](const std::tm& t, std::size_t) { return static_cast<long long>(iso_year_week(t)); }},
    {KeepRule::monthly, &RetentionRules::monthly, [](const std::tm& t, std::size_t) { return (t.tm_year + 1900LL) * 100 + t.tm_mon + 1; }},
    {KeepRule::yearly, &RetentionRules::yearly, [](const std::tm& t, std::size_t) { return t.tm_year + 1900LL; }},
}};


}  // namespace

int parse_keep_count(std::string_view text, std::string_view option) {
  if (text == "unlimited") return kKeepUnlimited;
  const auto value = parse_whole_number(text, kMaxCount);
  if (!value)
    throw UsageError(std::string(option) + ": '" + std::string(text) + "' is not a count (a whole number from 0 to " +
                     std::to_string(kMaxCount) + ", or 'unlimited')");
  return *value;
}

std::string_view rule_name(KeepRule rule) {
  switch (rule) {
    case KeepRule::last: return "last";
    case KeepRule::hourly: return "hourly";
    case KeepRule::daily: return "daily";
    case KeepRule::weekly: return "weekly";
    case KeepRule::monthly: return "monthly";
    case KeepRule::yearly: return "yearly";
    case KeepRule::within: return "within";
    case KeepRule::pinned: return "pinned";
    case KeepRule::newest: return "newest";
  }
  return "?";
}

std::string RetentionDecision::reasons_text() const {
  std::string out;
  for (const KeepReason& r : reasons) out += (out.empty() ? "" : ", ") + r.text;
  return out;
}

std::vector<RetentionDecision> apply_retention(const std::vector<RetentionSnapshot>& snapshots,
                                               const RetentionRules& rules, std::time_t now) {
  std::vector<std::size_t> order(snapshots.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto &x = snapshots[a], &y = snapshots[b];
    return x.time != y.time ? x.time > y.time : x.name > y.name;
  });

  // --keep-within counts from the newest snapshot that is not in the future; when all are
  // in the future, it keeps them all (within_after stays empty).
  const bool within_on = !rules.within.zero();
  std::optional<std::time_t> within_after;
  if (within_on) {
    for (const std::size_t i : order)
      if (snapshots[i].time <= now) {
        within_after = rules.within.before(snapshots[i].time);
        break;
      }
  }
  const std::string within_text = "within " + rules.within.text();

  struct Counter {
    int left;                          // periods still to keep; kKeepUnlimited: no end
    std::optional<long long> period;   // the period of the last snapshot kept
    unsigned kept = 0;
  };
  std::array<Counter, kCalendarRules.size()> counters;
  for (std::size_t r = 0; r < kCalendarRules.size(); ++r) counters[r] = {rules.*kCalendarRules[r].count, {}, 0};

  std::vector<RetentionDecision> decisions;
  decisions.reserve(order.size());
  for (std::size_t nr = 0; nr < order.size(); ++nr) {
    const RetentionSnapshot& snap = snapshots[order[nr]];
    RetentionDecision d{snap, order[nr], false, {}};
    std::tm local{};
    localtime_r(&snap.time, &local);
    const bool is_oldest = nr + 1 == order.size();
    for (std::size_t r = 0; r < kCalendarRules.size(); ++r) {
      Counter& c = counters[r];
      if (c.left == 0) continue;
      const long long period = kCalendarRules[r].period(local, nr);
      if (c.period == period && !is_oldest) continue;
      const bool oldest = c.period == period;  // only the oldest snapshot gets here in a kept period
      c.period = period;
      if (c.left > 0) --c.left;
      ++c.kept;
      const std::string name(rule_name(kCalendarRules[r].rule));
      d.reasons.push_back({kCalendarRules[r].rule, c.kept, oldest,
                           (oldest ? "oldest " : "") + name + " #" + std::to_string(c.kept)});
    }
    if (within_on && (!within_after || snap.time > *within_after))
      d.reasons.push_back({KeepRule::within, 0, false, within_text});
    if (snap.pinned) d.reasons.push_back({KeepRule::pinned, 0, false, "pinned"});
    if (nr == 0) d.reasons.push_back({KeepRule::newest, 0, false, "newest"});
    d.keep = !d.reasons.empty();
    decisions.push_back(std::move(d));
  }
  return decisions;
}

}  // namespace bkp
