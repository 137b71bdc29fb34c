"""Reload (SIGHUP and /reload on the control socket): what can change while
clients stay connected changes, what needs a restart is reported, a bad file
changes nothing; RELOADING=1 (with MONOTONIC_USEC) then READY=1 around each."""

import os
import re
import select
import signal
import time
import unittest

from harness import ChatdTestCase, Deadline, T


def write(path, text):
    """Replaces the file at PATH atomically (as an editor's save does)."""
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class ReloadCase(ChatdTestCase):

    def reload_notices(self, srv, before, timeout=5):
        """Waits until, after the first BEFORE datagrams, a RELOADING=1 and
        then a READY=1 have arrived; returns the RELOADING=1 datagram."""
        deadline = Deadline(T(timeout))
        while True:
            srv.notify._drain()
            new = srv.notify.messages[before:]
            for i, m in enumerate(new):
                if "RELOADING=1" in m.split("\n") and any(
                        "READY=1" in n.split("\n") for n in new[i + 1:]):
                    return m
            if not select.select([srv.notify.sock], [], [],
                                 deadline.left())[0]:
                self.fail("no RELOADING=1 then READY=1 within %g s: %r"
                          % (deadline.seconds, new))

    def reload(self, srv):
        """/reload on the control connection; its one-line reply."""
        srv.ctl.say("/reload")
        return srv.ctl.readline()

    def conf(self, max_line=64, extra=""):
        return ("[chatd]\nrate = 0\nmax_line = %d\n" % max_line) + extra


class SighupTest(ReloadCase):

    def test_sighup_applies_max_line_without_dropping_a_client(self):
        """SIGHUP re-reads the file: a new max_line applies to a client that
        stays connected the whole time."""
        srv = self.start_server(conf=self.conf(64))
        a = srv.connect()
        long = "x" * 100
        a.say(long)
        self.assertEqual(a.readline(), "-ERR line too long (max 64 bytes)")
        before = len(srv.notify.messages)
        write(srv.conf_path, self.conf(200))
        srv.signal(signal.SIGHUP)
        self.reload_notices(srv, before)
        a.say(long)
        a.expect_chat(a, long)
        self.assertEqual(srv.status()["clients"], ["1"])

    def test_reloading_carries_monotonic_usec(self):
        """RELOADING=1 comes with MONOTONIC_USEC = CLOCK_MONOTONIC in us."""
        srv = self.start_server(conf=self.conf())
        before = len(srv.notify.messages)
        t0 = time.monotonic_ns() // 1000
        srv.signal(signal.SIGHUP)
        m = self.reload_notices(srv, before)
        t1 = time.monotonic_ns() // 1000
        us = re.search(r"^MONOTONIC_USEC=(\d+)$", m, re.M)
        self.assertIsNotNone(us, "no MONOTONIC_USEC in %r" % m)
        self.assertTrue(t0 - 1000 <= int(us.group(1)) <= t1 + 1000,
                        "%s not within [%d, %d]" % (us.group(1), t0, t1))


class ControlReloadTest(ReloadCase):

    def test_reload_adds_a_program(self):
        """/reload applies [programs]: a program added to the file can be
        piped to at once, by a client connected before."""
        srv = self.start_server(conf=self.conf())
        a = srv.connect()
        a.say("/pipe upper x")
        self.assertTrue(a.readline().startswith("-ERR unknown program"))
        write(srv.conf_path, self.conf(
            extra="[programs]\nupper = /usr/bin/tr a-z A-Z\n"))
        first = self.reload(srv)
        self.assertEqual(first, "+OK reloaded")
        a.say("/pipe upper shout")
        self.assertEqual(a.read_multiline(), ("+OK exit=0", ["SHOUT"]))

    def test_restart_only_settings_are_reported_and_kept(self):
        """A changed listen or workers is reported as needing a restart;
        the server keeps its listener and its workers.  (No -l or -w here:
        those would override the file.)"""
        base = self.conf() + "listen = 127.0.0.1:0\nworkers = 2\n"
        srv = self.start_server(conf=base, listen=0, workers=0)
        workers = srv.status()["workers"]
        self.assertEqual(workers, ["2"])
        write(srv.conf_path, self.conf() + "listen = 127.0.0.1:1\n"
              "workers = 3\n")
        first = self.reload(srv)
        self.assertEqual(first, "+OK reloaded; needs a restart to change: "
                         "listen workers")
        b = srv.connect()
        b.say("still here")
        b.expect_chat(b, "still here")
        self.assertEqual(srv.status()["workers"], workers)

    def test_command_line_options_still_win_after_a_reload(self):
        """-l on the command line overrides the file before and after a
        reload: an unchanged file reports nothing to restart."""
        srv = self.start_server(conf=self.conf() + "listen = 127.0.0.1:1\n")
        first = self.reload(srv)
        self.assertEqual(first, "+OK reloaded")

    def test_bad_file_is_refused_and_the_old_one_stays(self):
        """A bad file: -ERR FILE:LINE: ..., a warning in the log, the old
        configuration stays in force, and READY=1 follows RELOADING=1."""
        srv = self.start_server(conf=self.conf(64), strict_log=False)
        a = srv.connect()
        before = len(srv.notify.messages)
        write(srv.conf_path, "[chatd]\nrate = 0\nmax_line = lots\n")
        first = self.reload(srv)
        self.assertTrue(first.startswith("-ERR %s:3: " % srv.conf_path),
                        first)
        self.reload_notices(srv, before)
        a.say("y" * 65)
        self.assertEqual(a.readline(), "-ERR line too long (max 64 bytes)")
        a.say("z" * 64)
        a.expect_chat(a, "z" * 64)
        warned = [l for l in srv.stderr().splitlines() if ": warning: " in l]
        self.assertEqual(len(warned), 1, warned)
        self.assertIn(srv.conf_path + ":3:", warned[0])

    def test_missing_file_is_refused(self):
        """A configuration file that has gone: -ERR naming it; nothing
        changes and the server keeps serving."""
        srv = self.start_server(conf=self.conf(), strict_log=False)
        os.unlink(srv.conf_path)
        first = self.reload(srv)
        self.assertTrue(first.startswith("-ERR %s: " % srv.conf_path), first)
        b = srv.connect()
        b.say("fine")
        b.expect_chat(b, "fine")


if __name__ == "__main__":
    unittest.main()
