#!/usr/bin/env python3
"""Runs one system-test module and reports TAP on standard output.

    python3 tap.py test_chat.py [Class.test_name ...]

Each unittest test method is one TAP test point: "ok K - Class.test_name",
or "not ok K - ..." followed by the traceback as "# " comment lines.  The
exit status is 0 when every test passed, 1 otherwise.  A test that takes
longer than 60 s (times CHATD_TEST_SLOW) is interrupted and fails, so a
broken server cannot hang the suite.
"""

import sys

sys.dont_write_bytecode = True  # no __pycache__ in a read-only srcdir

import importlib.util  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import time
import traceback
import unittest

PER_TEST_LIMIT = 60


class TestTookTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise TestTookTooLong("test exceeded its %g s limit" % _limit())


def _limit():
    return PER_TEST_LIMIT * float(os.environ.get("CHATD_TEST_SLOW") or "1")


def _flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item


def _comment(text):
    for line in text.rstrip("\n").splitlines():
        print("# " + line)


def _load(path):
    path = os.path.abspath(path)
    sys.path.insert(0, os.path.dirname(path))
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _name(test):
    return "%s.%s" % (type(test).__name__, test._testMethodName)


def main(argv):
    if len(argv) < 2:
        print("usage: tap.py TEST_FILE.py [Class.test ...]", file=sys.stderr)
        return 2
    try:
        module = _load(argv[1])
    except Exception:
        print("1..1")
        print("not ok 1 - import %s" % argv[1])
        _comment(traceback.format_exc())
        return 1
    tests = list(_flatten(unittest.defaultTestLoader.loadTestsFromModule(
        module)))
    wanted = set(argv[2:])
    if wanted:
        tests = [t for t in tests
                 if _name(t) in wanted or t._testMethodName in wanted]
    print("1..%d" % len(tests), flush=True)
    signal.signal(signal.SIGALRM, _alarm)
    failed = 0
    for k, test in enumerate(tests, 1):
        logs = getattr(sys.modules.get("harness"), "LOGS", [])
        del logs[:]
        result = unittest.TestResult()
        started = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, _limit())
        try:
            test.run(result)
        except TestTookTooLong:
            result.errors.append((test, traceback.format_exc()))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        took = time.monotonic() - started
        problems = result.failures + result.errors
        problems += [(t, "unexpected success")
                     for t in result.unexpectedSuccesses]
        name = _name(test)
        if problems:
            failed += 1
            print("not ok %d - %s" % (k, name))
            for _, text in problems:
                _comment(text)
            for cmd, err in logs:
                lines = err.splitlines()
                _comment("stderr of %s (last %d of %d lines):"
                         % (cmd, min(len(lines), 40), len(lines)))
                _comment("\n".join("  " + x for x in lines[-40:]) or "  -")
        elif result.skipped:
            print("ok %d - %s # SKIP %s" % (k, name, result.skipped[0][1]))
        else:
            print("ok %d - %s" % (k, name))
        _comment("%s took %.2f s" % (name, took))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
