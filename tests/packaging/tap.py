"""Runs the unittest cases of a test script and reports them in TAP, so that meson
(protocol: 'tap') counts each case and shows the failures."""
import sys
import traceback
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.number = 0
        self.current = None  # the failures of the running test, None between tests
        self.skip = None

    def _report(self, name, failures, skip=None):
        self.number += 1
        status = "not ok" if failures else "ok"
        print(f"{status} {self.number} - {name}" + (f" # SKIP {skip}" if skip else ""))
        for what, err in failures:
            print(f"# {what}")
            for line in "".join(traceback.format_exception(*err)).splitlines():
                print(f"#   {line}")
        sys.stdout.flush()

    def startTest(self, test):
        super().startTest(test)
        self.current, self.skip = [], None

    def stopTest(self, test):
        super().stopTest(test)
        self._report(test.id().split(".", 1)[-1], self.current, self.skip)
        self.current = None

    def _failed(self, test, err):
        if self.current is None:  # setUpModule and the like: not inside a test
            self._report(str(test), [(str(test), err)])
        else:
            self.current.append((test.id().split(".", 1)[-1], err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._failed(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._failed(test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failed(subtest, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.skip = reason


def main(module="__main__"):
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[module])
    print(f"1..{suite.countTestCases()}", flush=True)
    result = TapResult()
    suite.run(result)
    sys.exit(0 if result.wasSuccessful() else 1)
