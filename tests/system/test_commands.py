"""Client commands: /help, /who, /quit, unknown commands."""

import re
import time
import unittest

from harness import ChatdTestCase

WHO_RE = re.compile(r"^id=([1-9][0-9]*) addr=127\.0\.0\.1:([0-9]+) "
                    r"worker=([1-9][0-9]*) age=([0-9]+) timeout=none$")


def mentions(line, command):
    return re.search(r"(^|\s)%s(\s|$)" % re.escape(command), line)


class HelpTest(ChatdTestCase):

    def test_help_lists_each_command_with_usage(self):
        """/help is a multi-line +OK reply with a line for /help, /who, /quit."""
        srv = self.start_server()
        c = srv.connect()
        first, data = c.command("/help")
        self.assertTrue(data, "/help has no data lines")
        for cmd in ("/help", "/who", "/quit"):
            self.assertTrue([x for x in data if mentions(x, cmd)],
                            "/help does not mention %s: %r" % (cmd, data))
        for line in data:
            self.assertRegex(line, r"^\s*/", "a /help line shows no usage")

    def test_commands_are_not_broadcast(self):
        """Commands and their replies reach only the requester."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.command("/help")
        a.command("/who")
        a.say("marker")
        a.expect_chat(a, "marker")
        b.expect_chat(a, "marker")


class WhoTest(ChatdTestCase):

    def test_who_lists_every_client_in_ascending_id_order(self):
        """/who: 'id=ID addr=127.0.0.1:PORT worker=N age=S timeout=none', one
        line per client, ascending id, PORT the client's own source port."""
        srv = self.start_server(workers=2)
        t0 = time.monotonic()
        clients = srv.connect_many(3)
        first, data = clients[1].command("/who")
        elapsed = time.monotonic() - t0
        rows = []
        for line in data:
            m = WHO_RE.match(line)
            self.assertTrue(m, "bad /who line %r" % line)
            rows.append(tuple(int(g) for g in m.groups()))
        self.assertEqual([r[0] for r in rows], [c.id for c in clients])
        self.assertEqual([r[1] for r in rows], [c.port for c in clients])
        for _, _, worker, age in rows:
            self.assertIn(worker, (1, 2), "worker numbers run from 1")
            self.assertLessEqual(age, int(elapsed) + 1)

    def test_who_worker_numbers_match_the_worker_processes(self):
        """Clients with the same worker= are held by the same worker process."""
        srv = self.start_server(workers=2)
        clients = srv.connect_many(4)
        first, data = clients[0].command("/who")
        number = {int(WHO_RE.match(x).group(1)): int(WHO_RE.match(x).group(3))
                  for x in data}
        pairs = {(number[c.id], srv.worker_of(c)) for c in clients}
        self.assertEqual(len({n for n, _ in pairs}), 2, "/who: %r" % data)
        self.assertEqual(len(pairs), 2,
                         "worker= numbers and processes disagree: %r" % pairs)


class QuitTest(ChatdTestCase):

    def test_quit_says_bye_then_closes(self):
        """/quit: '* bye' is the last line, then the server closes (EOF)."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.say("/quit")
        self.assertEqual(a.read_to_eof(), ["* bye"])
        self.assertFalse(a.reset, "connection reset instead of closed")
        b.say("still here")
        b.expect_chat(b, "still here")

    def test_quit_with_unread_input_still_delivers_bye(self):
        """A lingering close: '* bye' arrives even when the client sent more
        data after /quit that the server never reads."""
        srv = self.start_server()
        a = srv.connect()
        junk = ("x" * 63 + "\n").encode() * 1024   # 64 KiB after /quit
        try:
            a.send(b"/quit\n" + junk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before it has all of it
        lines = a.read_to_eof()
        self.assertEqual(lines[:1], ["* bye"], "transcript %r" % lines[:5])
        self.assertEqual(lines, ["* bye"], "lines after * bye")

    def test_quit_queued_behind_a_command_still_says_bye(self):
        """Lines that wait behind a command's reply run in order when it
        arrives: '/who', '/quit', 'hello' in one packet give the /who reply,
        then '* bye' and a clean close, and 'hello' is never broadcast."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.send(b"/who\n/quit\nhello\n")
        first, rows = a.read_multiline()
        self.assertTrue(first.startswith("+OK"), first)
        self.assertEqual(a.read_to_eof(), ["* bye"])
        self.assertFalse(a.reset, "connection reset instead of closed")
        b.say("marker")
        b.expect_chat(b, "marker")


class UnknownCommandTest(ChatdTestCase):

    def test_unknown_command_is_refused_and_not_broadcast(self):
        """'/foo' -> '-ERR unknown command /foo (try /help)'; stays open."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.say("/foo")
        a.expect_line("-ERR unknown command /foo (try /help)")
        a.say("/foo bar baz")
        a.expect_line("-ERR unknown command /foo (try /help)")
        a.say("marker")
        a.expect_chat(a, "marker")
        b.expect_chat(a, "marker")


if __name__ == "__main__":
    unittest.main()
