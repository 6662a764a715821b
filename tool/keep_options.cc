#include "keep_options.h"

namespace po = boost::program_options;

namespace bkp {

void add_keep_options(po::options_description& desc, KeepOptions& keep) {
  auto to = [](std::optional<std::string>& field) {
    return po::value<std::string>()->value_name("N")->notifier([&field](const std::string& v) { field = v; });
  };
  desc.add_options()
      ("keep-last", to(keep.last), "keep the N newest snapshots")
      ("keep-hourly", to(keep.hourly), "keep the newest snapshot of each of the last N hours that have one")
      ("keep-daily", to(keep.daily), "... of the last N days that have one")
      ("keep-weekly", to(keep.weekly), "... of the last N ISO weeks that have one")
      ("keep-monthly", to(keep.monthly), "... of the last N months that have one")
      ("keep-yearly", to(keep.yearly), "... of the last N years that have one")
      ("keep-within", po::value<std::string>()->value_name("DURATION")->notifier([&keep](const std::string& v) {
         keep.within = v;
       }),
       "keep every snapshot newer than the newest minus DURATION (1y2m10d12h)");
}

RetentionRules KeepOptions::rules() const {
  RetentionRules r;
  auto count = [](const std::optional<std::string>& v, const char* option) {
    return v ? parse_keep_count(*v, option) : 0;
  };
  r.last = count(last, "--keep-last");
  r.hourly = count(hourly, "--keep-hourly");
  r.daily = count(daily, "--keep-daily");
  r.weekly = count(weekly, "--keep-weekly");
  r.monthly = count(monthly, "--keep-monthly");
  r.yearly = count(yearly, "--keep-yearly");
  if (within) r.within = parse_calendar_duration(*within, "--keep-within");
  return r;
}

}  // namespace bkp
