"""/kick ID (guarantee 3): synchronous, across workers, from the control
socket, and with a lingering close."""

import time
import unittest

from harness import ChatdTestCase, T
from cmdutil import conf, sync, who


class KickTest(ChatdTestCase):

    def assert_kicked(self, victim, by):
        """VICTIM's last line is '* kicked by BY', then EOF, no reset."""
        lines = victim.read_to_eof()
        self.assertEqual(lines[-1:], ["* kicked by %d" % by],
                         "%r: transcript %r" % (victim, lines[-5:]))
        self.assertFalse(victim.reset, "%r was reset: %r"
                         % (victim, victim.reset))
        return lines

    def test_kick_another_client(self):
        """/kick B: +OK only once B got its last line, is closed and gone."""
        # '/kick B' -> '+OK kicked B'; B got '* kicked by A' then EOF, and B is
        # already gone from /who when +OK arrives.
        srv = self.start_server(workers=1)
        a, b, c = srv.connect_many(3)
        a.say("/kick %d" % b.id)
        a.expect_line("+OK kicked %d" % b.id)
        self.assertNotIn(b.id, who(a), "kicked client still in /who")
        self.assertEqual(self.assert_kicked(b, a.id),
                         ["* kicked by %d" % a.id])
        c.say("still here")
        for x in (a, c):
            x.expect_chat(c, "still here")
        self.assertEqual(sorted(who(srv.ctl)), [a.id, c.id])

    def test_answer_does_not_wait_for_the_victim_to_close(self):
        """The +OK goes as soon as the victim's last line is out, not when
        the victim closes its end (it may never: a lingering close waits
        a second for it).  B here keeps its socket open."""
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        started = time.monotonic()
        a.say("/kick %d" % b.id)
        a.expect_line("+OK kicked %d" % b.id, timeout=0.5)
        self.assertLess(time.monotonic() - started, T(0.5))
        self.assertEqual(b.readline(), "* kicked by %d" % a.id)

    def test_kick_self(self):
        """'/kick MYID': '* kicked by MYID' then EOF, and no +OK."""
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        a.say("/kick %d" % a.id)
        self.assertEqual(self.assert_kicked(a, a.id),
                         ["* kicked by %d" % a.id])
        self.assertEqual(sorted(who(b)), [b.id])

    def test_kick_unknown_id(self):
        """/kick of an unused, gone or malformed id is refused with -ERR."""
        # An id nobody has (never used, or already gone) -> '-ERR no such
        # client ID'; a malformed id -> -ERR with the usage; the requester
        # stays connected.
        srv = self.start_server(workers=1)
        a, b = srv.connect_many(2)
        a.say("/kick 999999")
        a.expect_line("-ERR no such client 999999")
        b.say("/quit")
        self.assertEqual(b.read_to_eof(), ["* bye"])
        # One worker: b's leaving went to the supervisor before a's next
        # line is read; a chat round trip makes sure it was handled.
        sync(a)
        a.say("/kick %d" % b.id)
        a.expect_line("-ERR no such client %d" % b.id)
        a.say("/kick 0")
        a.expect_line("-ERR no such client 0")
        for bad in ("/kick", "/kick abc", "/kick -1", "/kick 1 2"):
            a.say(bad)
            line = a.readline()
            self.assertTrue(line.startswith("-ERR "), "%r -> %r" % (bad, line))
            self.assertIn("/kick ID", line, "%r: no usage in %r" % (bad, line))
        a.say("alive")
        a.expect_chat(a, "alive")

    def test_kick_client_on_another_worker(self):
        """A kick across workers is synchronous all the same."""
        # A kick crosses workers: the target on worker 2, the requester on
        # worker 1; synchronous all the same.
        srv = self.start_server(workers=2)
        clients = srv.connect_many(4)
        rows = who(srv.ctl)
        a = clients[0]
        others = [c for c in clients if rows[c.id]["worker"] !=
                  rows[a.id]["worker"]]
        self.assertTrue(others, "no client on another worker: %r" % rows)
        b = others[0]
        self.assertNotEqual(srv.worker_of(a), srv.worker_of(b))
        a.say("/kick %d" % b.id)
        a.expect_line("+OK kicked %d" % b.id)
        self.assertNotIn(b.id, who(a))
        self.assertEqual(self.assert_kicked(b, a.id),
                         ["* kicked by %d" % a.id])
        rest = [c for c in clients if c is not b]
        rest[-1].say("after the kick")
        for c in rest:
            c.expect_chat(rest[-1], "after the kick")

    def test_kick_from_the_control_socket(self):
        """The admin's kick: '* kicked by 0', +OK on the control socket."""
        # '/kick ID' on the control socket: the client gets '* kicked by 0',
        # the control connection '+OK kicked ID'.
        srv = self.start_server(workers=2)
        a, b = srv.connect_many(2)
        srv.ctl.say("/kick %d" % b.id)
        srv.ctl.expect_line("+OK kicked %d" % b.id)
        self.assertNotIn(b.id, who(srv.ctl))
        self.assertEqual(self.assert_kicked(b, 0), ["* kicked by 0"])
        srv.ctl.say("/kick %d" % b.id)
        srv.ctl.expect_line("-ERR no such client %d" % b.id)
        a.say("fine")
        a.expect_chat(a, "fine")

    def test_kicked_client_with_unread_input_gets_its_last_line(self):
        """Lingering close: '* kicked by' despite unread input."""
        # A lingering close: a client whose input the server has not read (it
        # is over its rate limit) still receives '* kicked by ID', with no
        # reset.
        srv = self.start_server(workers=1,
                                conf=conf("rate = 1\nburst = 3\n"))
        a, b = srv.connect_many(2)
        # One line uses b's bucket up; the rest waits in the socket.
        junk = ("y" * 63 + "\n").encode() * 2048   # 128 KiB
        b.send(b"first\n" + junk)
        b.expect_chat(b, "first")
        a.say("/kick %d" % b.id)
        before = a.read_until("+OK kicked %d" % b.id)[:-1]
        for line in before:   # b's chat lines the server did read
            self.assertTrue(line.startswith("%d " % b.id), repr(before))
        lines = self.assert_kicked(b, a.id)
        for line in lines[:-1]:
            self.assertTrue(line.startswith("%d " % b.id),
                            "unexpected line %r before the kick" % line)

    def test_requester_that_leaves_at_once(self):
        """A kick whose requester left at once still happens."""
        # A requester that closes right after '/kick B': B is still kicked (by
        # the requester's id) and the server goes on serving.
        srv = self.start_server(workers=2)
        a, b, c = srv.connect_many(3)
        a.say("/kick %d" % b.id)
        a.close()
        self.assertEqual(self.assert_kicked(b, a.id),
                         ["* kicked by %d" % a.id])
        rows = who(c)   # a may or may not be gone by now
        self.assertNotIn(b.id, rows)
        self.assertIn(c.id, rows)
        c.say("/kick %d" % b.id)
        c.expect_line("-ERR no such client %d" % b.id)


if __name__ == "__main__":
    unittest.main()
