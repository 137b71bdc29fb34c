"""/pipe NAME TEXT: configured programs only, no shell, a clean child
(fds, environment, signals, process group), limits, and reaping
(guarantee 5)."""

import os
import re
import signal
import socket
import struct
import time
import unittest
from unittest import mock

from harness import (ChatdTestCase, Proc, T, children, session_members,
                     wait_exited)
from cmdutil import (Hold, assert_no_zombies, conf, prog, programs_conf, ps,
                     raw_reply, settle, settle_supervisor, sync,
                     unstuff)

YES_LINE = "abcdefg"            # 8 bytes a line with its newline
YES_MAX = 12500 * 8 + 3         # 12500 whole lines and "abc"


class PipeCase(ChatdTestCase):
    """Starts a chatd with every program these tests use."""

    def pipe_server(self, pipe=None, workers=1, env=None):
        self.hold = Hold(self.make_tmp())
        self.addCleanup(self.hold.close)
        programs = {
            "upper": "/usr/bin/tr a-z A-Z",
            "rev": "/usr/bin/rev",
            "cat": "/bin/cat",
            "dots": r"/usr/bin/printf .a\n.\nb\n..\n...c\n",
            "nonl": r"/usr/bin/printf first\nlast",
            "exit3": prog("exit3"),
            "false": "/bin/false",
            "term": prog("sigterm"),
            "sleep": "/bin/sleep 30",
            "yes": "/usr/bin/yes " + YES_LINE,
            "fds": prog("fds"),
            "env": "/usr/bin/env",
            "status": "/bin/cat /proc/self/status",
            "argv": "/bin/cat /proc/self/cmdline",
            "hold": self.hold.command(),
            # Longer than any deadline here, even under valgrind: if it
            # ends, it was killed.
            "nap": self.hold.command("/bin/sleep", "600"),
            "bg": "%s %s" % (prog("bg"), self.hold.path),
            "bytes": r"/usr/bin/printf \001\377\tx\r\nnext",
        }
        settings = {"timeout": 10, "max_output": YES_MAX}
        settings.update(pipe or {})
        text = conf(extra=programs_conf(programs, settings))
        if env:
            with mock.patch.dict(os.environ, env):
                srv = self.start_server(conf=text, workers=workers)
        else:
            srv = self.start_server(conf=text, workers=workers)
        self.programs = programs
        return srv

    def pipe(self, client, name, text=None):
        """/pipe NAME [TEXT] -> (first line, data lines as sent)."""
        client.say("/pipe %s" % name + ("" if text is None else " " + text))
        return raw_reply(client, timeout=10)

    def assert_idle(self, srv):
        """No program runs: the workers have no child at all (so no zombie
        either), /ps lists none, chatd's session holds only chatd."""
        for w in children(srv.pid):
            self.assertEqual(children(w), [], "worker %d has children" % w)
        assert_no_zombies(self, srv)
        first, rows = ps(srv.ctl)
        self.assertEqual([r for r in rows if r.get("role") == "pipe"], [])
        self.assertEqual(session_members(srv.proc.pid),
                         sorted([srv.pid] + children(srv.pid)))


class OutputTest(PipeCase):

    def test_upper_through_tr(self):
        """/pipe upper: tr's output as data lines, for the requester only."""
        # '/pipe upper hello, World 42' -> '+OK exit=0', 'HELLO, WORLD 42',
        # '.'; only the requester sees it; no TEXT writes just a newline.
        srv = self.pipe_server()
        a, b = srv.connect_many(2)
        self.assertEqual(self.pipe(a, "upper", "hello, World 42"),
                         ("+OK exit=0", ["HELLO, WORLD 42"]))
        self.assert_idle(srv)
        self.assertEqual(self.pipe(a, "upper"), ("+OK exit=0", [""]))
        self.assertEqual(self.pipe(a, "upper", "  two  spaces "),
                         ("+OK exit=0", ["  TWO  SPACES "]))
        self.assert_idle(srv)
        sync(a, [b])   # b's next line after its welcome is a's sync line
        self.assertEqual(b.transcript[1:2], [a.transcript[-1]])

    def test_dot_stuffing(self):
        """Output lines starting with '.' are dot-stuffed."""
        # An output line that starts with '.' gets one more '.'; a line '.'
        # becomes '..'; the reply ends with a lone '.'.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        self.assertEqual(self.pipe(a, "cat", ".hidden"),
                         ("+OK exit=0", ["..hidden"]))
        self.assertEqual(self.pipe(a, "cat", "."), ("+OK exit=0", [".."]))
        self.assertEqual(self.pipe(a, "cat", "a.b"), ("+OK exit=0", ["a.b"]))
        first, data = self.pipe(a, "dots")
        self.assertEqual((first, data),
                         ("+OK exit=0", ["..a", "..", "b", "...", "....c"]))
        self.assertEqual(unstuff(data), [".a", ".", "b", "..", "...c"])
        assert_no_zombies(self, srv)

    def test_last_line_without_newline_is_a_data_line(self):
        """A last output line without a newline is a data line."""
        # Output that does not end in a newline: its last line is still a data
        # line, followed by '.'.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        self.assertEqual(self.pipe(a, "nonl"),
                         ("+OK exit=0", ["first", "last"]))
        self.assert_idle(srv)

    def test_output_bytes_pass_unchanged(self):
        """Program output is passed on as bytes."""
        # Output is passed on as bytes: control characters, invalid UTF-8, a
        # TAB and a CR before the newline reach the client unchanged.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        a.say("/pipe bytes")
        lines = a.read_until(".", timeout=10)
        # (The harness decodes lines as UTF-8 with backslashreplace.)
        self.assertEqual(lines, ["+OK exit=0", "\x01\\xff\tx\r", "next", "."])
        self.assert_idle(srv)

    def test_requester_that_half_closes_still_gets_its_reply(self):
        """A half-closed requester still gets its whole reply."""
        # A requester that shuts down its sending side after '/pipe' (echo ...
        # | nc -N) is not gone: it gets the whole reply, then EOF.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        a.say("/pipe hold half")
        a.sock.shutdown(socket.SHUT_WR)
        conn, pid = self.hold.wait_started()
        sleeper = Proc(pid)
        self.addCleanup(sleeper.close)
        self.assertFalse(sleeper.exited(0.3), "the program was killed")
        conn.close()
        self.assertEqual(a.read_to_eof(timeout=10),
                         ["+OK exit=0", "released", "half", "."])
        self.assertFalse(a.reset, "reset instead of closed")
        self.assertTrue(sleeper.exited(5))
        self.assert_idle(srv)

    def test_nonzero_exit_and_signal(self):
        """exit=3, exit=1 and signal=15 are reported with the output."""
        # Exit status 3 -> '+OK exit=3' with the output; /bin/false -> '+OK
        # exit=1'; a program killed by SIGTERM -> '+OK signal=15'.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        self.assertEqual(self.pipe(a, "exit3", "x"),
                         ("+OK exit=3", ["partial"]))
        assert_no_zombies(self, srv)
        self.assertEqual(self.pipe(a, "false"), ("+OK exit=1", []))
        assert_no_zombies(self, srv)
        self.assertEqual(self.pipe(a, "term"), ("+OK signal=15", ["before"]))
        self.assert_idle(srv)

    def test_unknown_program(self):
        """An unknown program is refused, naming the known ones."""
        # '/pipe nope x' -> '-ERR unknown program nope (known: ...)' naming
        # every configured program; '/pipe' alone -> -ERR with the usage.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        a.say("/pipe nope x")
        line = a.readline()
        m = re.match(r"^-ERR unknown program nope \(known: (.*)\)$", line)
        self.assertTrue(m, line)
        self.assertEqual(sorted(m.group(1).split()), sorted(self.programs))
        a.say("/pipe")
        line = a.readline()
        self.assertTrue(line.startswith("-ERR ") and "/pipe NAME" in line,
                        line)
        a.say("/pipe UPPER x")   # names are not folded
        self.assertTrue(a.readline().startswith(
            "-ERR unknown program UPPER (known: "))
        self.assert_idle(srv)


class LimitTest(PipeCase):

    def test_program_past_the_timeout_is_killed(self):
        """A program past [pipe] timeout: '-ERR sleep timed out', gone."""
        # [pipe] timeout = 0.5, /bin/sleep 30 -> '-ERR sleep timed out' after
        # about 0.5 s; then no program runs or lingers as a zombie.
        srv = self.pipe_server(pipe={"timeout": 0.5})
        a, = srv.connect_many(1)
        t0 = time.monotonic()
        a.say("/pipe sleep x")
        a.expect_line("-ERR sleep timed out", timeout=5)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 0.45, "after %.3f s" % took)
        self.assertLessEqual(took, T(3), "after %.3f s" % took)
        self.assert_idle(srv)
        self.assertEqual(self.pipe(a, "upper", "next"),
                         ("+OK exit=0", ["NEXT"]))

    def test_timeout_kills_the_whole_process_group(self):
        """The timeout kills the program's whole process group."""
        # A program that exits but leaves a child holding its output open: no
        # EOF, so '-ERR bg timed out' at [pipe] timeout = 1, and the child is
        # killed with the program's process group.
        srv = self.pipe_server(pipe={"timeout": 1})
        a, = srv.connect_many(1)
        a.say("/pipe bg")
        conn, pid = self.hold.wait_started()
        child = Proc(pid)
        self.addCleanup(child.close)
        a.expect_line("-ERR bg timed out", timeout=5)
        self.assertTrue(child.exited(5), "the program's child still runs")
        settle_supervisor(srv.ctl)   # it may be the supervisor's to reap
        self.assert_idle(srv)

    def test_endless_output_is_truncated_at_max_output(self):
        """yes is cut at exactly max_output bytes: 'truncated'."""
        # /usr/bin/yes against max_output = 100003: '+OK signal=9 truncated'
        # (or exit=N truncated) with exactly 100003 bytes of data.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        first, data = self.pipe(a, "yes")
        self.assertRegex(first, r"^\+OK (signal|exit)=[0-9]+ truncated$")
        whole = YES_MAX // 8
        self.assertEqual(len(data), whole + 1, "%d data lines" % len(data))
        self.assertEqual(data[:whole], [YES_LINE] * whole)
        self.assertEqual(data[whole:], [YES_LINE[:YES_MAX % 8]])
        self.assertEqual(sum(len(x) + 1 for x in data) - 1, YES_MAX)
        self.assert_idle(srv)

    def test_busy(self):
        """max_running = 1: a second /pipe gets '-ERR busy'."""
        # [pipe] max_running = 1 across the server: while one client's program
        # runs, another client's /pipe gets '-ERR busy'; once it has ended,
        # pipes run again.
        srv = self.pipe_server(pipe={"max_running": 1}, workers=2)
        a, b = srv.connect_many(2)
        self.assertNotEqual(srv.worker_of(a), srv.worker_of(b))
        a.say("/pipe hold first")
        conn, pid = self.hold.wait_started()
        b.say("/pipe upper x")
        b.expect_line("-ERR busy")
        a.say("/pipe upper y")   # a waits for its reply: not even read yet
        conn.close()
        self.assertEqual(raw_reply(a, 10),
                         ("+OK exit=0", ["released", "first"]))
        self.assertEqual(raw_reply(a, 10), ("+OK exit=0", ["Y"]))
        self.assertEqual(self.pipe(b, "upper", "x"), ("+OK exit=0", ["X"]))
        self.assert_idle(srv)


class IsolationTest(PipeCase):

    def test_shell_metacharacters_reach_the_program_verbatim(self):
        """Shell metacharacters reach the program verbatim."""
        # TEXT with $( ) ` ; | & > < * ~ quotes reaches rev and cat as is: the
        # output is the exact text (reversed), no command ran, and TEXT is in
        # no argument list.
        d = self.make_tmp()
        victim = os.path.join(d, "victim")
        open(victim, "w").close()
        text = ("$(touch {d}/p1) `touch {d}/p2`; touch {d}/p3 && "
                "touch {d}/p4 | tee {d}/p5 & > {d}/p6 < /etc/passwd "
                "${{HOME}} $PATH 'sq' \"dq\" \\ * ? ~ # x; "
                "rm -f {d}/victim; >file").format(d=d)
        srv = self.pipe_server()
        before = sorted(os.listdir(srv.tmp))
        a, = srv.connect_many(1)
        self.assertEqual(self.pipe(a, "rev", text),
                         ("+OK exit=0", [text[::-1]]))
        self.assertEqual(self.pipe(a, "cat", text), ("+OK exit=0", [text]))
        first, data = self.pipe(a, "argv", text)
        self.assertEqual(first, "+OK exit=0")
        self.assertEqual(data, ["/bin/cat\0/proc/self/cmdline\0"])
        self.assertEqual(sorted(os.listdir(d)), ["victim"])
        self.assertEqual(sorted(os.listdir(srv.tmp)), before)
        self.assert_idle(srv)

    def test_program_sees_only_fds_0_1_2(self):
        """The program sees only fds 0, 1 and 2."""
        # The program's open fds are 0 and 1 (pipes) and 2 (/dev/null), nothing
        # else.
        srv = self.pipe_server(workers=2)
        clients = srv.connect_many(4)   # sockets the workers hold
        first, data = self.pipe(clients[-1], "fds")
        self.assertEqual(first, "+OK exit=0")
        fds = dict(line.split(" ", 1) for line in data)
        self.assertEqual(sorted(fds, key=int), ["0", "1", "2"], data)
        self.assertRegex(fds["0"], r"^pipe:\[[0-9]+\]$")
        self.assertRegex(fds["1"], r"^pipe:\[[0-9]+\]$")
        self.assertNotEqual(fds["0"], fds["1"])
        self.assertEqual(fds["2"], "/dev/null")
        self.assert_idle(srv)

    def test_environment_is_minimal(self):
        """The program's environment is minimal."""
        # The program's environment holds no NOTIFY_SOCKET, LISTEN_*,
        # JOURNAL_STREAM, WATCHDOG_* or CHATD* variable and nothing else of
        # chatd's own environment beyond PATH/locale/HOME-like basics.
        srv = self.pipe_server(env={"CHATD_PROBE": "leak",
                                    "SOME_SECRET_PROBE": "leak"})
        a, = srv.connect_many(1)
        first, data = self.pipe(a, "env")
        self.assertEqual(first, "+OK exit=0")
        names = [line.split("=", 1)[0] for line in data]
        for name in names:
            self.assertNotRegex(
                name, r"^(NOTIFY_SOCKET|JOURNAL_STREAM|LISTEN_.*|WATCHDOG_.*|"
                r"CHATD.*|INVOCATION_ID|SOME_SECRET_PROBE)$",
                "leaked into the program: %r" % data)
        allowed = re.compile(r"^(PATH|HOME|LANG|LANGUAGE|LC_[A-Z]+|TZ|PWD|"
                             r"TMPDIR|SHELL|USER|LOGNAME)$")
        extra = [n for n in names if not allowed.match(n)]
        self.assertEqual(extra, [], "not a minimal environment: %r" % data)
        self.assert_idle(srv)

    def test_signals_are_default_and_unblocked(self):
        """The program's signal mask is empty and nothing is ignored."""
        # The program starts with an empty signal mask and no signal ignored
        # (SigBlk and SigIgn are zero).
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        first, data = self.pipe(a, "status")
        self.assertEqual(first, "+OK exit=0")
        st = dict(re.split(r":\s*", line, maxsplit=1) for line in data
                  if ":" in line)
        self.assertEqual(int(st["SigBlk"], 16), 0, "SigBlk %s" % st["SigBlk"])
        self.assertEqual(int(st["SigIgn"], 16), 0, "SigIgn %s" % st["SigIgn"])
        self.assert_idle(srv)

    def test_program_runs_in_its_own_process_group(self):
        """The program runs in a process group of its own."""
        # The program leads a process group of its own (pgid = its pid), and is
        # a child of the worker of its requester.
        srv = self.pipe_server(workers=2)
        a, = srv.connect_many(1)
        first, data = self.pipe(a, "status")
        self.assertEqual(first, "+OK exit=0")
        st = dict(re.split(r":\s*", line, maxsplit=1) for line in data
                  if ":" in line)
        pid = int(st["Pid"])
        self.assertEqual(int(st["NSpgid"].split()[-1]), pid,
                         "pgid %s, pid %d" % (st["NSpgid"], pid))
        self.assertEqual(int(st["PPid"]), srv.worker_of(a))
        self.assertNotEqual(os.getpgid(srv.worker_of(a)), pid)
        self.assert_idle(srv)


class ReapTest(PipeCase):

    def test_no_zombie_after_each_case(self):
        """No zombie (no child at all) after each kind of reply."""
        # After each reply (normal, failing, signalled, truncated, timed out,
        # refused) the worker has no child left, zombie or not: the reply goes
        # only once the program is reaped.
        srv = self.pipe_server(pipe={"timeout": 1})
        a, = srv.connect_many(1)
        cases = [("upper", "x", "+OK exit=0"), ("exit3", "", "+OK exit=3"),
                 ("false", "", "+OK exit=1"), ("term", "", "+OK signal=15"),
                 ("yes", "", None), ("cat", ".", "+OK exit=0"),
                 ("fds", "", "+OK exit=0")]
        for name, text, expect in cases:
            first, data = self.pipe(a, name, text)
            if expect:
                self.assertEqual(first, expect, name)
            self.assert_idle(srv)
        a.say("/pipe sleep")
        a.expect_line("-ERR sleep timed out", timeout=5)
        self.assert_idle(srv)
        a.say("/pipe nope")
        self.assertTrue(a.readline().startswith("-ERR unknown program"))
        self.assert_idle(srv)

    def test_shutdown_with_a_program_running(self):
        """Shutdown with a program running leaves no process, exit 0."""
        # SIGTERM while /bin/sleep 600 runs for a client: the client gets '*
        # shutdown', the sleep and every chatd process end, exit status 0,
        # nothing left behind.
        srv = self.pipe_server(workers=2)
        a, b = srv.connect_many(2)
        a.say("/pipe nap x")
        conn, pid = self.hold.wait_started()
        sleeper = Proc(pid)
        self.addCleanup(sleeper.close)
        procs = [Proc(p) for p in children(srv.pid)]
        for p in procs:
            self.addCleanup(p.close)
        srv.signal(signal.SIGTERM)
        for c in (a, b):
            lines = c.read_to_eof(timeout=10)
            self.assertEqual(lines[-1:], ["* shutdown"], repr(c))
            self.assertFalse(c.reset, "%r reset" % c)
        srv.assert_clean_exit()
        self.assertEqual(wait_exited([sleeper] + procs, 5), [])
        self.assertTrue(sleeper.reaped(), "the sleep is a zombie")

    def test_shutdown_with_a_leftover_child_of_a_program(self):
        """Shutdown kills a program's leftover child too."""
        # SIGTERM while a program's own child (same process group) holds its
        # output open: that child is killed too; nothing is left in chatd's
        # session after exit.
        srv = self.pipe_server()
        a, = srv.connect_many(1)
        a.say("/pipe bg")
        conn, pid = self.hold.wait_started()
        child = Proc(pid)
        self.addCleanup(child.close)
        srv.signal(signal.SIGTERM)
        self.assertEqual(a.read_to_eof(timeout=10)[-1:], ["* shutdown"])
        rc = srv.wait_exit(10)
        self.assertEqual(rc, 0)
        self.assertTrue(child.exited(5), "the program's child outlived chatd")
        self.assertEqual(session_members(srv.proc.pid), [])

    def test_requester_that_disconnects_has_its_program_killed(self):
        """A requester's reset kills and reaps its program."""
        # A requester whose connection is gone (reset) while its program runs:
        # the program is killed and reaped, its slot is free again (max_running
        # = 1).
        srv = self.pipe_server(pipe={"max_running": 1})
        a, b = srv.connect_many(2)
        a.say("/pipe nap x")
        conn, pid = self.hold.wait_started()
        sleeper = Proc(pid)
        self.addCleanup(sleeper.close)
        # A reset, not a FIN: a FIN could be a half-close by a client that
        # still wants its reply (echo /pipe ... | nc -N).
        a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack("ii", 1, 0))
        a.close()
        self.assertTrue(sleeper.exited(5), "program still runs")
        settle(b)   # one worker: it has handled the exit by now
        self.assertTrue(sleeper.reaped(), "program not reaped")
        self.assert_idle(srv)
        self.assertEqual(self.pipe(b, "upper", "free"),
                         ("+OK exit=0", ["FREE"]))

    def test_kicked_requester_has_its_program_killed(self):
        """A kicked requester's program is killed and reaped."""
        # A requester kicked while its program runs gets '* kicked by 0'; the
        # program is killed and reaped.
        srv = self.pipe_server()
        a, b = srv.connect_many(2)
        a.say("/pipe nap x")
        conn, pid = self.hold.wait_started()
        sleeper = Proc(pid)
        self.addCleanup(sleeper.close)
        srv.ctl.say("/kick %d" % a.id)
        srv.ctl.expect_line("+OK kicked %d" % a.id)
        self.assertEqual(a.read_to_eof(), ["* kicked by 0"])
        self.assertTrue(sleeper.exited(5), "program still runs")
        settle(b)
        self.assertTrue(sleeper.reaped(), "program not reaped")
        self.assert_idle(srv)


if __name__ == "__main__":
    unittest.main()
