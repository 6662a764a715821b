#include <cerrno>
#include <stdexcept>
#include <future>
#include <system_error>

#include <gtest/gtest.h>

#include "firewall.h"

namespace bkpfs {
namespace {

TEST(Firewall, SystemErrorsKeepTheirErrno) {
  EXPECT_EQ(run_guarded("t", [] { throw std::system_error(ENOENT, std::generic_category()); }), ENOENT);
  EXPECT_EQ(run_guarded("t", [] { throw std::system_error(EACCES, std::system_category()); }), EACCES);
}

TEST(Firewall, AnythingElseIsEio) {
  EXPECT_EQ(run_guarded("t", [] { throw std::runtime_error("boom"); }), EIO);
  EXPECT_EQ(run_guarded("t", [] { throw 42; }), EIO);
  EXPECT_EQ(run_guarded("t", [] { throw std::system_error(make_error_code(std::future_errc::no_state)); }), EIO);
}

TEST(Firewall, NoThrowMeansReplied) { EXPECT_EQ(run_guarded("t", [] {}), 0); }

}  // namespace
}  // namespace bkpfs
