// The keep rules on a command line or in a --config/job file (--keep-last N, --keep-hourly,
// --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within 1y2m10d12h),
// shared by `bkp prune` and backup runs that prune after they succeed.
#pragma once

#include <boost/program_options.hpp>

#include <optional>
#include <string>

#include "retention.h"

namespace bkp {

struct KeepOptions {
  std::optional<std::string> last, hourly, daily, weekly, monthly, yearly, within;

  // Parsed and checked; throws UsageError naming the option and value (negative, malformed).
  RetentionRules rules() const;
};

void add_keep_options(boost::program_options::options_description& desc, KeepOptions& keep);

}  // namespace bkp
