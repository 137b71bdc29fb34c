"""/timeout ID SECONDS (guarantee 3): the read timeout, its parsing, /who."""

import select
import time
import unittest

from harness import ChatdTestCase, T
from cmdutil import expect_silence, who

USAGE = "/timeout ID SECONDS"


class TimeoutTest(ChatdTestCase):

    def assert_timed_out(self, client):
        lines = client.read_to_eof(timeout=5)
        self.assertEqual(lines, ["* timeout"], repr(client))
        self.assertFalse(client.reset, "%r was reset" % client)

    def test_timeout_fires_in_time(self):
        """A 0.3 s timeout fires between 0.25 s and 2 s."""
        # '/timeout B 0.3': '+OK timeout B 0.3'; B, silent, gets '* timeout'
        # and EOF between 0.25 s and 2 s later; the others stay.
        srv = self.start_server(workers=2)
        a, b = srv.connect_many(2)
        t0 = time.monotonic()
        a.say("/timeout %d 0.3" % b.id)
        a.expect_line("+OK timeout %d 0.3" % b.id)
        self.assert_timed_out(b)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.25, "fired after %.3f s" % took)
        self.assertLessEqual(took, T(2), "fired after %.3f s" % took)
        a.say("still here")
        a.expect_chat(a, "still here")

    def test_timeout_from_the_control_socket(self):
        """The control socket sets a timeout too, and it fires."""
        srv = self.start_server(workers=1)
        a, = srv.connect_many(1)
        srv.ctl.say("/timeout %d 0.3" % a.id)
        srv.ctl.expect_line("+OK timeout %d 0.3" % a.id)
        self.assert_timed_out(a)

    def keep_sending(self, client, seconds, make):
        """CLIENT sends make(k) every 0.1 s for SECONDS, waiting on its own
        socket in between (reading its echoes); fails on '* timeout'."""
        sent = []
        end = time.monotonic() + seconds
        next_send = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= end:
                return sent
            if now >= next_send:
                data = make(len(sent))
                client.send(data)
                sent.append(data)
                next_send += 0.1
                continue
            wait = min(next_send, end) - now
            if select.select([client.sock], [], [], wait)[0]:
                client._fill(_Now())
                while True:
                    line = client._take_line()
                    if line is None:
                        break
                    self.assertNotEqual(line, "* timeout",
                                        "timed out after %d sends"
                                        % len(sent))
                if client.eof:
                    self.fail("%r closed after %d sends: %r"
                              % (client, len(sent), client.transcript[-3:]))

    def test_client_that_keeps_sending_is_not_timed_out(self):
        """A client sending every 0.1 s outlives its 0.3 s timeout."""
        # With a 0.3 s timeout, a client sending a line every 0.1 s stays for
        # 1.2 s; once silent, it is timed out.
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        a.say("/timeout %d 0.3" % b.id)
        a.expect_line("+OK timeout %d 0.3" % b.id)
        self.keep_sending(b, 1.2, lambda k: "tick %d\n" % k)
        self.assertIn(b.id, who(srv.ctl))
        lines = b.read_to_eof(timeout=5)
        self.assertEqual(lines[-1:], ["* timeout"])
        for line in lines[:-1]:
            self.assertRegex(line, r"^%d tick [0-9]+$" % b.id)

    def test_bytes_of_an_unfinished_line_count_as_input(self):
        """Every byte resets the timeout, not only whole lines."""
        # Every byte resets the timeout, not only whole lines: a client sending
        # one byte every 0.1 s of a line it finishes later stays.
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        a.say("/timeout %d 0.3" % b.id)
        a.expect_line("+OK timeout %d 0.3" % b.id)
        sent = self.keep_sending(b, 1.2, lambda k: "x")
        b.say("")
        b.expect_chat(b, "".join(sent))
        self.assertIn(b.id, who(srv.ctl))

    def test_zero_clears_the_timeout(self):
        """'/timeout ID 0' clears the timeout."""
        # '/timeout B 0' -> '+OK timeout B 0'; B then stays silent for 1 s and
        # is not closed; /who says timeout=none.
        srv = self.start_server(workers=2)
        a, b = srv.connect_many(2)
        a.say("/timeout %d 0.3" % b.id)
        a.expect_line("+OK timeout %d 0.3" % b.id)
        a.say("/timeout %d 0" % b.id)
        a.expect_line("+OK timeout %d 0" % b.id)
        expect_silence(b, 1.0)
        self.assertEqual(who(a)[b.id]["timeout"], "none")
        b.say("alive")
        b.expect_chat(b, "alive")

    def test_malformed_seconds_are_refused(self):
        """Every malformed SECONDS is refused with -ERR and the usage."""
        # Every malformed SECONDS gets -ERR with the usage, and changes
        # nothing: 'abc' '-1' '1e3' '.5' '1.' '0.0001' '86400.001' '' 'too many
        # args' and others.
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        bad = ["abc", "-1", "1e3", ".5", "1.", "0.0001", "86400.001", "",
               "1 2", "+1", "0x10", "1,5", "1.2.3", " 1.2345", "inf", "nan",
               "86401", "4294967296", "1.5s", "\u0661"]
        cmds = ["/timeout %d %s" % (b.id, arg) for arg in bad]
        cmds += ["/timeout", "/timeout %d" % b.id, "/timeout abc 1",
                 "/timeout -1 1"]
        for cmd in cmds:
            a.say(cmd)
            line = a.readline()
            self.assertTrue(line.startswith("-ERR "), "%r -> %r" % (cmd, line))
            self.assertIn(USAGE, line, "%r: no usage in %r" % (cmd, line))
        a.say("/timeout 999999 1")
        a.expect_line("-ERR no such client 999999")
        self.assertEqual(who(a)[b.id]["timeout"], "none")
        a.say("alive")
        a.expect_chat(a, "alive")

    def test_seconds_are_echoed_in_shortest_form(self):
        """+OK timeout echoes SECONDS in its shortest form."""
        # Accepted values come back in their shortest form: 0.25, 1, 1.500 ->
        # 1.5, 2.0 -> 2, 0.010 -> 0.01, 0.001, 86400.
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        for given, shown in (("0.25", "0.25"), ("1", "1"), ("1.500", "1.5"),
                             ("2.0", "2"), ("0.010", "0.01"),
                             ("0.001", "0.001"), ("86400", "86400"),
                             ("86400.000", "86400"), ("0.000", "0"),
                             ("3600", "3600")):
            a.say("/timeout %d %s" % (b.id, given))
            a.expect_line("+OK timeout %d %s" % (b.id, shown))
        a.say("/timeout %d 0" % a.id)
        a.expect_line("+OK timeout %d 0" % a.id)

    def test_who_shows_the_timeout(self):
        """/who shows timeout=SECONDS, or timeout=none."""
        # /who: timeout=SECONDS (shortest form) for a client that has one,
        # timeout=none for the others and after it is cleared.
        srv = self.start_server(workers=2)
        a, b, c = srv.connect_many(3)
        a.say("/timeout %d 1.500" % b.id)
        a.expect_line("+OK timeout %d 1.5" % b.id)
        srv.ctl.say("/timeout %d 300" % c.id)
        srv.ctl.expect_line("+OK timeout %d 300" % c.id)
        rows = who(a)
        self.assertEqual({k: v["timeout"] for k, v in rows.items()},
                         {a.id: "none", b.id: "1.5", c.id: "300"})
        c.say("/timeout %d 30.25" % c.id)
        c.expect_line("+OK timeout %d 30.25" % c.id)
        self.assertEqual(who(srv.ctl)[c.id]["timeout"], "30.25")
        a.say("/timeout %d 0" % b.id)
        a.expect_line("+OK timeout %d 0" % b.id)
        self.assertEqual(who(c)[b.id]["timeout"], "none")


class _Now:
    """A deadline that has already passed (for a read that must not
    wait)."""
    seconds = 0

    @staticmethod
    def left():
        return 0.0


if __name__ == "__main__":
    unittest.main()
