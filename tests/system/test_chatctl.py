"""chatctl: every command against a live chatd, --json parsed back, the
exit statuses (0 +OK, 1 -ERR, 2 bad usage, 3 unreachable), the alignment
of the text output, and the reply reader against a scripted fake server.

Environment (besides harness.py's):
  CHATCTL          path of the chatctl binary
                   (default: ../../chatctl/chatctl from here)
  CHATCTL_WRAPPER  command prefix for chatctl, split with shlex
                   ("valgrind -q --error-exitcode=99 ..."); stretches
                   the one timer a test waits out by 10
"""

import json
import os
import re
import select
import shlex
import socket
import subprocess
import time
import unittest

from harness import (ChatdTestCase, Deadline, Server, T, chat_env,
                     children, run_chatd)

HERE = os.path.dirname(os.path.abspath(__file__))
CHATCTL = os.environ.get("CHATCTL") or os.path.normpath(
    os.path.join(HERE, "..", "..", "chatctl", "chatctl"))
CTL_WRAPPER = shlex.split(os.environ.get("CHATCTL_WRAPPER", ""))
# A wrapped chatctl (valgrind) takes long to exit after its reply: timers
# that must outlast one run are stretched by this much.
CTL_SLOW = 10 if CTL_WRAPPER else 1

COMMANDS = ("status", "who", "ps", "kick", "timeout", "say", "reload",
            "shutdown")


class Result:
    """What one chatctl run did."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.decode("utf-8")
        self.err = proc.stderr.decode("utf-8")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "exit %d, stdout %r, stderr %r" % (self.rc, self.out, self.err)


def chatctl(args, sock=None, env=None, timeout=20, **kw):
    """Runs chatctl [-s SOCK] ARGS to completion."""
    cmd = CTL_WRAPPER + [CHATCTL] + (["-s", sock] if sock else []) + list(args)
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          env=env or chat_env(), timeout=T(timeout), **kw)
    return Result(proc)


def columns(line):
    """The offsets where the words of LINE start."""
    return [m.start() for m in re.finditer(r"\S+", line)]


class EnvServer(Server):
    """A Server whose chatd gets extra environment variables."""

    def __init__(self, extra_env, **kw):
        super().__init__(**kw)
        self.extra_env = extra_env

    def spawn(self):
        with open(self.stderr_path, "wb") as err, \
                open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=chat_env(NOTIFY_SOCKET=self.notify.path,
                             **self.extra_env),
                cwd=self.tmp, start_new_session=True)
        self.pidfd = os.pidfd_open(self.proc.pid)


class ChatctlTestCase(ChatdTestCase):

    def ok(self, srv, *args, **kw):
        """chatctl ARGS against SRV; it must exit 0 with nothing on stderr."""
        r = chatctl(args, sock=srv.ctl_path, **kw)
        self.assertEqual((r.rc, r.err), (0, ""), "chatctl %s: %r" % (args, r))
        return r

    def assert_table(self, out, header):
        """OUT is a table with HEADER; every row's words start where the
        header's do.  Returns the rows as lists of words."""
        lines = out.splitlines()
        self.assertGreater(len(lines), 1, out)
        self.assertEqual(lines[0].split(), header, out)
        starts = columns(lines[0])
        for line in lines[1:]:
            self.assertEqual(columns(line), starts,
                             "row not aligned with the header:\n" + out)
            self.assertEqual(line, line.rstrip(), "trailing blanks")
        return [line.split() for line in lines[1:]]


# --------------------------------------------------------------------------

class UsageTest(ChatctlTestCase):

    def test_help_goes_to_stdout_and_exits_0(self):
        """-h and --help print the usage and every command to stdout."""
        for opt in ("-h", "--help"):
            r = chatctl([opt])
            self.assertEqual((r.rc, r.err), (0, ""), r)
            self.assertTrue(r.out.startswith("usage: chatctl"), r)
            for name in COMMANDS:
                self.assertRegex(r.out, r"(?m)^  %s\b" % name)

    def test_version_exits_0(self):
        """-V and --version print 'chatctl VERSION', chatd's version."""
        chatd = run_chatd(["-V"]).stdout.decode().split()
        for opt in ("-V", "--version"):
            r = chatctl([opt])
            self.assertEqual((r.rc, r.err), (0, ""), r)
            self.assertEqual(r.out, "chatctl %s\n" % chatd[-1])

    def test_bad_usage_exits_2_before_connecting(self):
        """Bad usage prints usage on stderr and exits 2, even with a socket
        that does not exist (the arguments are checked first)."""
        missing = os.path.join(self.make_tmp(), "none.sock")
        cases = [[], ["foo"], ["kick"], ["kick", "1", "2"], ["kick", "x"],
                 ["kick", "-1"], ["timeout", "1"], ["timeout", "1", "2", "3"],
                 ["timeout", "x", "1"], ["timeout", "1", "-1"],
                 ["timeout", "1", "0.1234"], ["timeout", "1", "1."],
                 ["timeout", "1", "abc"], ["status", "x"], ["who", "x"],
                 ["ps", "x"], ["reload", "x"], ["shutdown", "now"], ["say"],
                 ["say", "two\nlines"], ["say", "cr\rhere"], ["-x", "status"],
                 ["--bogus", "status"], ["--json=1", "status"], ["--json"]]
        for args in cases:
            r = chatctl(args, sock=missing)
            self.assertEqual(r.rc, 2, "chatctl %r: %r" % (args, r))
            self.assertIn("usage: chatctl", r.err, args)
            self.assertTrue(r.err.startswith("chatctl: "), (args, r))
            self.assertEqual(r.out, "", args)
        r = chatctl(["-s"])
        self.assertEqual(r.rc, 2, r)

    def test_missing_socket_exits_3(self):
        """No socket file: a clear message naming the path, exit 3."""
        missing = os.path.join(self.make_tmp(), "none.sock")
        for args in (["status"], ["--json", "who"], ["kick", "1"]):
            r = chatctl(args, sock=missing)
            self.assertEqual(r.rc, 3, r)
            self.assertEqual(r.out, "")
            self.assertEqual(
                r.err, "chatctl: cannot reach chatd at %s: No such file or "
                "directory (is chatd running?)\n" % missing)

    def test_stale_socket_exits_3_then_is_taken_over(self):
        """A socket nobody listens on is 'Connection refused' (exit 3); a
        chatd started on it takes it over and chatctl reaches it."""
        srv = Server()
        self.addCleanup(srv.cleanup)
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(srv.ctl_path)
        stale.close()
        r = chatctl(["status"], sock=srv.ctl_path)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("Connection refused (is chatd running?)", r.err)
        srv.start()
        self.assertEqual(self.ok(srv, "--json", "status").json()["pid"],
                         srv.pid)

    def test_second_chatd_is_refused_and_the_first_stays_reachable(self):
        """A second chatd on the same control socket does not start;
        chatctl still reaches the first."""
        first = self.start_server()
        second = self.spawn_server(ctl_path=first.ctl_path, strict_log=False)
        self.assertNotEqual(second.wait_exit(10), 0)
        self.assertEqual(self.ok(first, "--json", "status").json()["pid"],
                         first.pid)

    def test_default_socket_is_found_without_options(self):
        """chatd and chatctl agree on the socket with no -s:
        $RUNTIME_DIRECTORY, and $XDG_RUNTIME_DIR for an ordinary user."""
        cases = ["RUNTIME_DIRECTORY"]
        if os.geteuid() != 0:
            cases.append("XDG_RUNTIME_DIR")
        for var in cases:
            with self.subTest(var=var):
                rundir = self.make_tmp()
                env = {var: rundir}
                srv = EnvServer(env, sock=False,
                                ctl_path=os.path.join(rundir, "chatd.sock"))
                self.addCleanup(srv.cleanup)
                srv.start()
                r = chatctl(["--json", "status"], env=chat_env(**env))
                self.assertEqual(r.rc, 0, r)
                self.assertEqual(r.json()["pid"], srv.pid)

    def test_another_uid_is_refused(self):
        """As another uid: EACCES on a 0600 socket is exit 3; with the
        modes opened, the server's '-ERR permission denied' is exit 1."""
        if os.geteuid() != 0:
            self.skipTest("running chatctl as another uid needs root")
        srv = self.start_server()
        os.chmod(srv.tmp, 0o711)
        nobody = dict(user=65534, group=65534, extra_groups=[])
        r = chatctl(["status"], sock=srv.ctl_path, **nobody)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("Permission denied", r.err)
        os.chmod(srv.ctl_path, 0o666)
        r = chatctl(["status"], sock=srv.ctl_path, **nobody)
        self.assertEqual((r.rc, r.out), (1, ""), r)
        self.assertEqual(r.err, "chatctl: permission denied\n")


# --------------------------------------------------------------------------

class StatusTest(ChatctlTestCase):

    def test_status_text_is_aligned(self):
        """'key  value' lines with every value in one column."""
        srv = self.start_server()
        out = self.ok(srv, "status").out
        lines = out.splitlines()
        keys = [line.split()[0] for line in lines]
        for key in ("pid", "version", "uptime", "workers", "clients",
                    "messages", "pipes", "listen"):
            self.assertIn(key, keys)
        width = max(len(k) for k in keys)
        for line in lines:
            self.assertRegex(line, r"^\S+ +\S")
            self.assertEqual(columns(line)[1], width + 2, out)
        self.assertIn("pid%s%d" % (" " * (width + 2 - 3), srv.pid), lines)

    def test_status_json(self):
        """--json status: one object; numbers as numbers; pid and listen
        are the server's."""
        srv = self.start_server(workers=2)
        srv.connect_many(3)
        st = self.ok(srv, "--json", "status").json()
        self.assertEqual(st["pid"], srv.pid)
        self.assertEqual(st["listen"], "127.0.0.1:%d" % srv.port)
        self.assertEqual(st["workers"], 2)
        self.assertEqual(st["clients"], 3)
        self.assertEqual(st["pipes"], 0)
        self.assertIsInstance(st["uptime"], int)
        self.assertIsInstance(st["messages"], int)
        self.assertIsInstance(st["version"], str)
        self.assertEqual(set(st), {"pid", "version", "uptime", "workers",
                                   "clients", "messages", "pipes", "listen"})

    def test_status_json_repeated_key_is_a_list(self):
        """Two listeners: "listen" is a list of both bound addresses."""
        srv = self.start_server(listen=2)
        st = self.ok(srv, "--json", "status").json()
        self.assertEqual(st["listen"],
                         ["127.0.0.1:%d" % p for p in srv.ports])
        out = self.ok(srv, "status").out
        self.assertEqual(len(re.findall(r"(?m)^listen +127\.0\.0\.1:", out)),
                         2, out)


class WhoPsTest(ChatctlTestCase):

    def test_who_table(self):
        """who: header ID ADDR WORKER AGE TIMEOUT, one aligned row per
        client, ascending ids."""
        srv = self.start_server(workers=2)
        a, b = srv.connect_many(2)
        rows = self.assert_table(self.ok(srv, "who").out,
                                 ["ID", "ADDR", "WORKER", "AGE", "TIMEOUT"])
        self.assertEqual([int(r[0]) for r in rows], [a.id, b.id])
        self.assertEqual([r[1] for r in rows],
                         ["127.0.0.1:%d" % c.port for c in (a, b)])
        self.assertEqual([r[4] for r in rows], ["none", "none"])

    def test_who_table_aligned_with_wide_values(self):
        """Columns stay aligned when ids and timeouts differ in width."""
        srv = self.start_server(workers=2)
        clients = srv.connect_many(11)  # ids 1 to 11: one and two digits
        self.ok(srv, "timeout", str(clients[3].id), "86400")
        self.ok(srv, "timeout", str(clients[10].id), "3600.5")
        rows = self.assert_table(self.ok(srv, "who").out,
                                 ["ID", "ADDR", "WORKER", "AGE", "TIMEOUT"])
        self.assertEqual([int(r[0]) for r in rows], [c.id for c in clients])
        self.assertEqual(rows[3][4], "86400")
        self.assertEqual(rows[10][4], "3600.5")

    def test_who_json(self):
        """--json who: an array of objects whose ids are the clients'."""
        srv = self.start_server(workers=2)
        a, b = srv.connect_many(2)
        who = self.ok(srv, "--json", "who").json()
        self.assertEqual([c["id"] for c in who], [a.id, b.id])
        for c, obj in zip((a, b), who):
            self.assertEqual(obj["addr"], "127.0.0.1:%d" % c.port)
            self.assertIn(obj["worker"], (1, 2))
            self.assertIsInstance(obj["age"], int)
            self.assertEqual(obj["timeout"], "none")
            self.assertEqual(list(obj), ["id", "addr", "worker", "age",
                                         "timeout"])

    def test_who_with_nobody(self):
        """No client: no table, and [] with --json."""
        srv = self.start_server()
        self.assertEqual(self.ok(srv, "who").out, "")
        self.assertEqual(self.ok(srv, "--json", "who").json(), [])

    def test_ps_table_and_json(self):
        """ps: the supervisor and each worker, aligned; "-" where a line
        lacks a key; --json gives the same processes."""
        srv = self.start_server(workers=2)
        srv.connect()
        rows = self.assert_table(self.ok(srv, "ps").out,
                                 ["PID", "ROLE", "WORKER", "CLIENTS"])
        self.assertEqual(rows[0], [str(srv.pid), "supervisor", "-", "-"])
        self.assertEqual(sorted(int(r[0]) for r in rows[1:]),
                         children(srv.pid))
        self.assertEqual(sorted(r[2] for r in rows[1:]), ["1", "2"])
        ps = self.ok(srv, "--json", "ps").json()
        self.assertEqual(ps[0], {"pid": srv.pid, "role": "supervisor"})
        workers = [p for p in ps if p["role"] == "worker"]
        self.assertEqual(sorted(p["pid"] for p in workers),
                         children(srv.pid))
        self.assertEqual(sum(p["clients"] for p in workers), 1)


class ActionTest(ChatctlTestCase):

    def test_kick(self):
        """kick ID: 'kicked ID'; the client reads '* kicked by 0', then
        EOF; it is gone from who."""
        srv = self.start_server()
        a, b = srv.connect_many(2)
        r = self.ok(srv, "kick", str(b.id))
        self.assertEqual(r.out, "kicked %d\n" % b.id)
        self.assertEqual(b.read_to_eof(), ["* kicked by 0"])
        who = self.ok(srv, "--json", "who").json()
        self.assertEqual([c["id"] for c in who], [a.id])
        r = self.ok(srv, "--json", "kick", str(a.id))
        self.assertEqual(r.json(), {"ok": True, "text": "kicked %d" % a.id})
        self.assertEqual(a.read_to_eof(), ["* kicked by 0"])

    def test_kick_unknown_id_exits_1(self):
        """-ERR: the server's text on stderr after 'chatctl: ', exit 1;
        with --json {"ok": false, "error": ...} on stdout."""
        srv = self.start_server()
        r = chatctl(["kick", "999"], sock=srv.ctl_path)
        self.assertEqual((r.rc, r.out, r.err),
                         (1, "", "chatctl: no such client 999\n"))
        r = chatctl(["--json", "kick", "999"], sock=srv.ctl_path)
        self.assertEqual((r.rc, r.err), (1, ""), r)
        self.assertEqual(r.json(),
                         {"ok": False, "error": "no such client 999"})

    def test_server_refuses_what_has_the_right_shape(self):
        """A SECONDS of the right shape but out of range is the server's
        -ERR (exit 1), not a usage error."""
        srv = self.start_server()
        c = srv.connect()
        r = chatctl(["timeout", str(c.id), "86401"], sock=srv.ctl_path)
        self.assertEqual(r.rc, 1, r)
        self.assertTrue(r.err.startswith("chatctl: bad SECONDS"), r)

    def test_timeout(self):
        """timeout ID SECONDS: in force (who shows it, the client gets
        '* timeout'); 0 clears it."""
        srv = self.start_server()
        a, b = srv.connect_many(2)
        secs = ("%.3f" % (T(0.5) * CTL_SLOW)).rstrip("0").rstrip(".")
        r = self.ok(srv, "timeout", str(a.id), secs)
        self.assertEqual(r.out, "timeout %d %s\n" % (a.id, secs))
        line = [w for w in srv.who() if w.startswith("id=%d " % a.id)]
        self.assertEqual(len(line), 1, srv.who())
        self.assertTrue(line[0].endswith(" timeout=" + secs), line)
        self.assertEqual(a.read_to_eof(timeout=5 + T(0.5) * CTL_SLOW),
                         ["* timeout"])
        r = self.ok(srv, "--json", "timeout", str(b.id), "30")
        self.assertEqual(r.json(), {"ok": True,
                                    "text": "timeout %d 30" % b.id})
        self.assertEqual(self.ok(srv, "--json", "who").json()[0]["timeout"],
                         30)
        self.ok(srv, "timeout", str(b.id), "0")
        self.assertEqual(self.ok(srv, "--json", "who").json()[0]["timeout"],
                         "none")

    def test_say(self):
        """say TEXT: every client reads '0 TEXT'; the words are joined by
        single blanks; one argument keeps its own blanks."""
        srv = self.start_server(workers=2)
        clients = srv.connect_many(3)
        r = self.ok(srv, "say", "hello", "from", "the", "admin")
        self.assertEqual(r.out, "")
        self.ok(srv, "say", "two  blanks", "-x")
        for c in clients:
            c.expect_line("0 hello from the admin")
            c.expect_line("0 two  blanks -x")
        self.assertEqual(self.ok(srv, "--json", "say", "x").json(),
                         {"ok": True, "text": ""})
        for c in clients:
            c.expect_line("0 x")

    def test_reload(self):
        """reload: a changed valid file is +OK (exit 0)."""
        srv = self.start_server()
        c = srv.connect()
        with open(srv.conf_path, "a") as f:
            f.write("max_line = 2000\n")
        r = self.ok(srv, "reload")
        self.assertTrue(r.out.startswith("reloaded"), r)
        r = self.ok(srv, "--json", "reload")
        self.assertEqual(r.json()["ok"], True)
        c.say("still here")
        c.expect_chat(c, "still here")

    def test_reload_broken_file_exits_1_naming_file_and_line(self):
        """reload of a bad file: exit 1, the error names FILE:LINE, the old
        configuration keeps serving."""
        srv = self.start_server(strict_log=False)  # the refusal is a warning
        with open(srv.conf_path, "w") as f:
            f.write("[chatd]\nrate = 0\nno_such_key = 1\n")
        r = chatctl(["reload"], sock=srv.ctl_path)
        self.assertEqual((r.rc, r.out), (1, ""), r)
        self.assertTrue(r.err.startswith("chatctl: %s:3: " % srv.conf_path),
                        r)
        r = chatctl(["--json", "reload"], sock=srv.ctl_path)
        self.assertEqual(r.rc, 1, r)
        obj = r.json()
        self.assertEqual(obj["ok"], False)
        self.assertTrue(obj["error"].startswith(srv.conf_path + ":3: "), obj)
        self.assertEqual(self.ok(srv, "--json", "status").json()["pid"],
                         srv.pid)

    def test_shutdown(self):
        """shutdown: +OK, then the server exits 0 cleanly."""
        srv = self.start_server()
        c = srv.connect()
        r = self.ok(srv, "shutdown")
        self.assertEqual(r.out, "shutting down\n")
        self.assertEqual(c.read_to_eof(), ["* shutdown"])
        srv.assert_clean_exit()
        r = chatctl(["status"], sock=srv.ctl_path)
        self.assertEqual(r.rc, 3, r)


# --------------------------------------------------------------------------

class FakeServer:
    """A Unix socket that answers one chatctl with a scripted reply."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "fake.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)

    def serve(self, args, reply, hold=False):
        """Runs chatctl ARGS and answers its line with REPLY (bytes); then
        closes the connection, or with HOLD keeps it open until chatctl
        has exited.  Returns (the line it sent, Result)."""
        cmd = CTL_WRAPPER + [CHATCTL, "-s", self.path] + list(args)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=chat_env())
        try:
            conn, line = self._answer(reply)
            with conn:
                if not hold:
                    conn.close()
                out, err = proc.communicate(timeout=T(20))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        return line, Result(subprocess.CompletedProcess(
            cmd, proc.returncode, out, err))

    def _answer(self, reply):
        deadline = Deadline(20)
        if not select.select([self.sock], [], [], deadline.left())[0]:
            raise AssertionError("chatctl did not connect")
        conn, _ = self.sock.accept()
        data = b""
        while not data.endswith(b"\n"):
            if not select.select([conn], [], [], deadline.left())[0]:
                conn.close()
                raise AssertionError("no line from chatctl: %r" % data)
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        conn.sendall(reply)
        return conn, data

    def close(self):
        self.sock.close()


class ReplyReaderTest(ChatctlTestCase):

    def fake(self):
        srv = FakeServer(self.make_tmp())
        self.addCleanup(srv.close)
        return srv

    def test_command_lines_sent(self):
        """The exact lines chatctl sends, one per run."""
        srv = self.fake()
        cases = [(["status"], b"/status\n"), (["who"], b"/who\n"),
                 (["ps"], b"/ps\n"), (["kick", "5"], b"/kick 5\n"),
                 (["timeout", "5", "0.25"], b"/timeout 5 0.25\n"),
                 (["say", "a", "b  c"], b"/say a b  c\n"),
                 (["reload"], b"/reload\n"), (["shutdown"], b"/shutdown\n")]
        for args, want in cases:
            line, r = srv.serve(args, b"-ERR scripted\n")
            self.assertEqual(line, want)
            self.assertEqual((r.rc, r.err), (1, "chatctl: scripted\n"), r)

    def test_dot_unstuffing(self):
        """A data line sent with a leading '..' is read with one dot."""
        srv = self.fake()
        _, r = srv.serve(["--json", "status"],
                         b"+OK status\n..dot=1\nk=..v\n.\n")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.json(), {".dot": 1, "k": "..v"})

    def test_values_with_blanks_and_repeated_keys_in_a_row(self):
        """A word without '=' belongs to the value before it; a key that
        repeats in one line is a list; missing keys print as '-'."""
        srv = self.fake()
        reply = b"+OK 2\nid=1 name=a b c=7 c=8 c=9\nid=22 other=x\n.\n"
        _, r = srv.serve(["--json", "who"], reply)
        self.assertEqual(r.json(), [{"id": 1, "name": "a b", "c": [7, 8, 9]},
                                    {"id": 22, "other": "x"}])
        _, r = srv.serve(["who"], reply)
        self.assertEqual((r.rc, r.err), (0, ""), r)
        self.assertEqual(r.out, "ID  NAME  C      OTHER\n"
                                "1   a b   7,8,9  -\n"
                                "22  -     -      x\n")

    def test_widths_count_characters_not_bytes(self):
        """A UTF-8 value is as wide as its characters; --json keeps it; a
        value that is not UTF-8 cannot be JSON (exit 1)."""
        srv = self.fake()
        wide = "\u00e9" * 5  # five characters, ten bytes
        reply = ("+OK\nname=%s x=1\nname=abc x=2\n.\n" % wide).encode()
        _, r = srv.serve(["who"], reply)
        self.assertEqual(r.out, "NAME   X\n%s  1\nabc    2\n" % wide)
        _, r = srv.serve(["--json", "who"], reply)
        self.assertEqual(r.json()[0], {"name": wide, "x": 1})
        _, r = srv.serve(["--json", "who"], b"+OK\nname=\xff\n.\n")
        self.assertEqual((r.rc, r.out), (1, ""), r)
        self.assertIn("cannot build the JSON output", r.err)

    def test_numbers_only_for_plain_decimal_integers(self):
        """0, 42 and -3 are numbers; 007, 1.5, 1e3, +1 and huge ones are
        strings."""
        srv = self.fake()
        _, r = srv.serve(["--json", "status"],
                         b"+OK\na=0\nb=42\nc=-3\nd=007\ne=1.5\nf=1e3\ng=+1\n"
                         b"h=99999999999999999999\ni=\nj=-\n.\n")
        self.assertEqual(r.json(), {"a": 0, "b": 42, "c": -3, "d": "007",
                                    "e": "1.5", "f": "1e3", "g": "+1",
                                    "h": "99999999999999999999", "i": "",
                                    "j": "-"})

    def test_eof_inside_the_reply_exits_1(self):
        """The connection closing before '.' is an error, exit 1."""
        srv = self.fake()
        for reply in (b"+OK 2 clients\nid=1\n", b"", b"+OK partial"):
            _, r = srv.serve(["who"], reply)
            self.assertEqual((r.rc, r.out), (1, ""), r)
            self.assertEqual(
                r.err, "chatctl: connection closed before the reply ended\n")

    def test_silent_server_hits_the_deadline(self):
        """A server that accepts and never answers: exit 1 after chatctl's
        10 s deadline, not a hang."""
        srv = self.fake()
        started = time.monotonic()
        _, r = srv.serve(["status"], b"+OK status\npid=1\n", hold=True)
        self.assertEqual((r.rc, r.out), (1, ""), r)
        self.assertEqual(r.err, "chatctl: no reply from chatd within 10 s\n")
        self.assertGreaterEqual(time.monotonic() - started, 9.5)

    def test_unexpected_reply_exits_1(self):
        """A first line that is neither +OK nor -ERR is an error."""
        srv = self.fake()
        for reply in (b"* welcome 1\n", b"+OKAY\n", b"hello\n"):
            _, r = srv.serve(["status"], reply)
            self.assertEqual((r.rc, r.out), (1, ""), r)
            self.assertTrue(r.err.startswith(
                "chatctl: unexpected reply from chatd: "), r)

    def test_bad_data_line_exits_1(self):
        """A data line that is not key=value is an error."""
        srv = self.fake()
        for args in (["status"], ["who"], ["--json", "ps"]):
            _, r = srv.serve(args, b"+OK\nnot a pair\n.\n")
            self.assertEqual(r.rc, 1, r)
            self.assertIn("unexpected data line from chatd: \"not a pair\"",
                          r.err)

    def test_crlf_and_single_line_text(self):
        """CRLF line ends are accepted; a single-line +OK prints its text."""
        srv = self.fake()
        _, r = srv.serve(["kick", "3"], b"+OK kicked 3\r\n")
        self.assertEqual((r.rc, r.out, r.err), (0, "kicked 3\n", ""))
        _, r = srv.serve(["--json", "status"], b"+OK status\r\npid=9\r\n.\r\n")
        self.assertEqual(r.json(), {"pid": 9})

    def test_err_on_a_multi_line_command_is_one_line(self):
        """-ERR ends the reply of status/who/ps at once (no '.' awaited)."""
        srv = self.fake()
        _, r = srv.serve(["--json", "ps"], b"-ERR shutting down\n")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.json(), {"ok": False, "error": "shutting down"})


if __name__ == "__main__":
    unittest.main()
