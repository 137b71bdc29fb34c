"""Helpers for the command and limit tests (kick, timeout, pipe, ps,
limits), on top of harness.py.

Like the harness, nothing here sleeps or polls: every wait is a select()
on a socket or pidfd with a deadline.
"""

import os
import re
import select
import socket
import time

from harness import Deadline, T, children, parse_chat, parse_kv, proc_state

HERE = os.path.dirname(os.path.abspath(__file__))
PROGS = os.path.join(HERE, "progs")


def prog(name):
    """Absolute path of one of our helper programs in progs/."""
    return os.path.join(PROGS, name)


def conf(chatd="", extra=""):
    """A whole configuration file: [chatd] with the lines CHATD (rate = 0
    unless CHATD sets a rate), then EXTRA (other sections).  For tests that
    need a rate of their own, which the harness's default cannot take."""
    if not re.search(r"^rate\s*=", chatd, re.M):
        chatd = "rate = 0\n" + chatd
    return "[chatd]\n" + chatd + extra


def programs_conf(programs, pipe=None):
    """A [pipe] section from the dict PIPE and a [programs] section from
    the dict PROGRAMS (name -> command line)."""
    text = ""
    if pipe:
        text += "[pipe]\n" + "".join(
            "%s = %s\n" % kv for kv in sorted(pipe.items()))
    text += "[programs]\n" + "".join(
        "%s = %s\n" % kv for kv in sorted(programs.items()))
    return text


# --------------------------------------------------------------------------
# Replies

def raw_reply(conn, timeout=5, skip_chat=False):
    """A multi-line reply as sent: (first line, data lines still
    dot-stuffed), the final '.' excluded.  SKIP_CHAT: chat lines before
    the reply are passed over (a client waiting for its reply still
    receives the chat)."""
    deadline = Deadline(timeout)
    first = conn.readline(timeout)
    while skip_chat and parse_chat(first) is not None:
        first = conn.readline(deadline.left() / T(1))
    if first is None or not first.startswith("+OK"):
        raise AssertionError("%r: expected a +OK multi-line reply, got %r"
                             % (conn, first))
    data = []
    while True:
        line = conn.readline(deadline.left() / T(1))
        if line is None:
            raise AssertionError("%r: EOF inside a multi-line reply after "
                                 "%r" % (conn, data[-5:]))
        if line == ".":
            return first, data
        data.append(line)


def unstuff(lines):
    return [x[1:] if x.startswith(".") else x for x in lines]


def kv_line(line):
    """'a=1 b=x' -> {'a': '1', 'b': 'x'}."""
    out = {}
    for word in line.split(" "):
        key, sep, value = word.partition("=")
        if not sep or key in out:
            raise AssertionError("not a key=value line: %r" % line)
        out[key] = value
    return out


WHO_RE = re.compile(r"^id=([1-9][0-9]*) addr=127\.0\.0\.1:[0-9]+ "
                    r"worker=([1-9][0-9]*) age=[0-9]+ "
                    r"timeout=(none|[0-9]+(?:\.[0-9]{1,3})?)$")


def who(conn):
    """/who on CONN as {id: {'worker': N, 'timeout': 'none'|'S'}}."""
    first, data = conn.command("/who")
    rows = {}
    for line in data:
        m = WHO_RE.match(line)
        if not m:
            raise AssertionError("bad /who line %r" % line)
        rows[int(m.group(1))] = {"worker": int(m.group(2)),
                                 "timeout": m.group(3)}
    return rows


def ps(conn):
    """/ps on CONN: (first line, [dict per data line])."""
    first, data = conn.command("/ps")
    return first, [kv_line(x) for x in data]


def status(conn):
    first, data = conn.command("/status")
    return parse_kv(data)


def expect_silence(conn, seconds):
    """Nothing arrives on CONN for SECONDS (a deadline wait on its socket);
    fails on the first byte or EOF."""
    if conn.buf:
        raise AssertionError("%r: unexpected data %r" % (conn,
                                                         bytes(conn.buf)))
    ready = select.select([conn.sock], [], [], T(seconds))[0]
    if ready:
        line = conn.readline(1)
        raise AssertionError("%r: expected silence for %g s, got %r"
                             % (conn, T(seconds), line))


def sync(sender, readers=(), tag="sync"):
    """SENDER says a line and every client in READERS (and SENDER) reads up
    to its echo: whatever SENDER's worker sent the supervisor before
    reading that line has been handled by then."""
    text = "%s %.6f" % (tag, time.monotonic())
    sender.say(text)
    for c in [sender] + [r for r in readers if r is not sender]:
        c.read_until("%d %s" % (sender.id, text))


def settle(sender, readers=()):
    """Three chat round trips through SENDER's worker.  A process event
    (SIGCHLD) that was pending in the worker when the first line arrived
    has been handled before the worker reads the third: a signal reaches
    libevent's loop one iteration late at worst, and each round trip is at
    least one iteration.  For 'the worker has reaped X' after X's pidfd
    said it ended, where the server sends nothing to wait for."""
    for k in range(3):
        sync(sender, readers, tag="settle%d" % k)


def settle_supervisor(ctl):
    """The same through the supervisor: three control-socket round trips
    (for a zombie it reaps, e.g. an orphan reparented to it)."""
    for _ in range(3):
        ctl.command("/status")


# --------------------------------------------------------------------------
# Processes

def zombies_of(pid):
    """PID's children that are zombies."""
    try:
        kids = children(pid)
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [k for k in kids if proc_state(k) == "Z"]


def server_pids(srv):
    """The supervisor and its children (the workers) now."""
    return [srv.pid] + children(srv.pid)


def assert_no_zombies(test, srv):
    """No process of the server has a zombie child."""
    for pid in server_pids(srv):
        test.assertEqual(zombies_of(pid), [],
                         "pid %d has zombie children" % pid)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().decode("utf-8", "replace").split("\0")[:-1]
    except (FileNotFoundError, ProcessLookupError):
        return None


def cpu_seconds(pid):
    """utime + stime of PID, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def server_rss_kb(srv):
    return rss_kb(server_pids(srv))


# --------------------------------------------------------------------------
# progs/hold: a program that says when it runs and stops when told

class Hold:
    """The Unix socket that progs/hold connects to.  The program line is
    'prog("hold") PATH' (then, optionally, 'exec PROGRAM ARGS')."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "hold.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.conns = []

    def command(self, *exec_argv):
        words = [prog("hold"), self.path]
        if exec_argv:
            words += ["exec"] + list(exec_argv)
        return " ".join(words)

    def wait_started(self, timeout=10):
        """Waits for a program to connect; returns (connection, its pid)."""
        deadline = Deadline(timeout)
        if not select.select([self.sock], [], [], deadline.left())[0]:
            raise AssertionError("no held program started within %g s"
                                 % deadline.seconds)
        conn, _ = self.sock.accept()
        self.conns.append(conn)
        data = b""
        while not data.endswith(b"\n"):
            if not select.select([conn], [], [], deadline.left())[0]:
                raise AssertionError("held program said %r only" % data)
            chunk = conn.recv(64)
            if not chunk:
                raise AssertionError("held program said %r, then EOF" % data)
            data += chunk
        word, pid = data.split()
        if word != b"started":
            raise AssertionError("held program said %r" % data)
        return conn, int(pid)

    def close(self):
        for c in self.conns:
            c.close()
        self.sock.close()


# --------------------------------------------------------------------------
# Many connections at once

class Reader:
    """Reads a client's socket directly (no transcript), keeping only the
    lines that FILTER accepts, for floods."""

    def __init__(self, client, keep=lambda line: True):
        self.client = client
        self.keep = keep
        self.lines = []
        self.partial = b""
        self.eof = False
        self.error = None

    def fileno(self):
        return self.client.sock.fileno()

    def on_readable(self):
        try:
            data = self.client.sock.recv(1 << 18)
        except BlockingIOError:
            return
        except OSError as e:
            self.error = e
            data = b""
        if not data:
            self.eof = True
            return
        data = self.partial + data
        *whole, self.partial = data.split(b"\n")
        for raw in whole:
            line = raw.decode("utf-8", "backslashreplace")
            if self.keep(line):
                self.lines.append(line)


def mux(readers, writer=None, data=b"", until=None, timeout=20,
        on_tick=None):
    """Sends DATA on WRITER while reading every READER, until UNTIL(reader)
    is true for each of them (or each has reached EOF).  ON_TICK() runs
    after every select() wake-up.  Fails at the deadline."""
    deadline = Deadline(timeout)
    view = memoryview(data)
    if writer is not None:
        writer.sock.setblocking(False)
    for r in readers:
        r.client.sock.setblocking(False)
    try:
        while True:
            pending = [r for r in readers
                       if not r.eof and not (until and until(r))]
            if not pending and not view:
                return
            wset = [writer.sock] if writer is not None and view else []
            rd, wr, _ = select.select(pending, wset, [], deadline.left())
            if not rd and not wr:
                raise AssertionError(
                    "flood not done within %g s: %d bytes unsent, readers "
                    "waiting: %r" % (deadline.seconds, len(view),
                                     [(r.client, len(r.lines))
                                      for r in pending]))
            if wr:
                try:
                    view = view[writer.sock.send(view[:1 << 16]):]
                except BlockingIOError:
                    pass
            for r in rd:
                r.on_readable()
            if on_tick:
                on_tick()
    finally:
        for c in [r.client for r in readers] + (
                [writer] if writer is not None else []):
            c.sock.setblocking(True)
            c.sock.settimeout(T(10))
