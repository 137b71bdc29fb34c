"""Shared helpers for chatd's black-box system tests.

Everything here waits for events with deadlines: select() on sockets and
pidfds, datagrams on our own NOTIFY_SOCKET.  Nothing sleeps and nothing
retries.  Every deadline is multiplied by CHATD_TEST_SLOW (default 1; a
valgrind run sets 10).

Environment:
  CHATD            path of the chatd binary (default: ../../chatd from here)
  CHATD_WRAPPER    command prefix, split with shlex ("valgrind --quiet ...")
  CHATD_TEST_SLOW  deadline multiplier (float, default 1)
"""

import os
import re
import select
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.normpath(os.path.join(HERE, "..", ".."))
CHATD = os.environ.get("CHATD") or os.path.join(SRCDIR, "chatd")
WRAPPER = shlex.split(os.environ.get("CHATD_WRAPPER", ""))
SLOW = float(os.environ.get("CHATD_TEST_SLOW") or "1")

# Variables that would change how chatd starts or logs; the tests set
# their own NOTIFY_SOCKET and never JOURNAL_STREAM.
_SCRUBBED_ENV = (
    "JOURNAL_STREAM", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID",
    "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID", "RUNTIME_DIRECTORY",
)

# "chatd[PID] ROLE: LEVEL: message"
LOG_RE = re.compile(
    r"^chatd\[(\d+)\] ([a-z]+(?: [0-9]+)?): "
    r"(debug|info|notice|warning|error|fatal): .*$")
CHAT_RE = re.compile(r"^(0|[1-9][0-9]*) (.*)$", re.S)
WELCOME_RE = re.compile(r"^\* welcome ([1-9][0-9]*)$")


# (command, stderr) of every chatd cleaned up since tap.py last cleared it:
# tap.py prints them under a failed test.
LOGS = []


def T(seconds):
    """A deadline of SECONDS, scaled by CHATD_TEST_SLOW."""
    return seconds * SLOW


class Deadline:
    """A point in time SECONDS (scaled) from now."""

    def __init__(self, seconds):
        self.seconds = T(seconds)
        self.end = time.monotonic() + self.seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())


def chat_env(**extra):
    env = dict(os.environ)
    for key in _SCRUBBED_ENV:
        env.pop(key, None)
    env.update(extra)
    return env


def short(seq, n=6):
    """A readable repr of a long sequence: its first and last N items."""
    seq = list(seq)
    if len(seq) <= 2 * n:
        return repr(seq)
    return "%r ... (%d more) ... %r" % (seq[:n], len(seq) - 2 * n, seq[-n:])


def parse_chat(line):
    """'ID TEXT' -> (ID, TEXT), or None when LINE is not a chat line."""
    m = CHAT_RE.match(line) if line is not None else None
    return (int(m.group(1)), m.group(2)) if m else None


# --------------------------------------------------------------------------
# Line-oriented connections

class LineConn:
    """A stream socket read line by line with deadlines."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(T(10))
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        self.transcript = []

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    def send(self, data, timeout=10):
        """Sends all of DATA (str or bytes) within TIMEOUT seconds."""
        if isinstance(data, str):
            data = data.encode()
        self.sock.settimeout(T(timeout))
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise AssertionError("%s: could not send %d bytes within %g s"
                                 % (self, len(data), T(timeout))) from None

    def say(self, text):
        self.send(text + "\n")

    def _fill(self, deadline):
        """Waits for data or EOF until DEADLINE; False when it passed."""
        if not select.select([self.sock], [], [], deadline.left())[0]:
            return False
        try:
            data = self.sock.recv(1 << 16)
        except BlockingIOError:
            return True
        except OSError as e:   # ECONNRESET, or EPIPE for a RST after FIN
            self.reset = e
            data = b""
        if data:
            self.buf += data
        else:
            self.eof = True
        return True

    def _take_line(self):
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        raw = bytes(self.buf[:i])
        del self.buf[:i + 1]
        line = raw.decode("utf-8", "backslashreplace")
        self.transcript.append(line)
        return line

    def readline(self, timeout=5):
        """The next line without its newline; None at EOF."""
        deadline = Deadline(timeout)
        while True:
            line = self._take_line()
            if line is not None:
                return line
            if self.eof:
                if self.buf:
                    raise AssertionError(
                        "%s: connection ended inside a line: %r"
                        % (self, bytes(self.buf[:200])))
                return None
            if not self._fill(deadline):
                raise AssertionError(
                    "%s: no complete line within %g s; last lines %r; "
                    "partial %r" % (self, deadline.seconds,
                                    self.transcript[-5:],
                                    bytes(self.buf[:200])))

    def expect_line(self, expected, timeout=5):
        line = self.readline(timeout)
        if line != expected:
            raise AssertionError("%s: expected %r, got %r (earlier: %r)"
                                 % (self, expected, line,
                                    self.transcript[-6:-1]))
        return line

    def read_lines(self, n, timeout=5):
        """Exactly N lines; EOF before them fails."""
        deadline = Deadline(timeout)
        lines = []
        for _ in range(n):
            line = self.readline(deadline.left() / SLOW)
            if line is None:
                raise AssertionError("%s: EOF after %d of %d lines; last %r"
                                     % (self, len(lines), n, lines[-5:]))
            lines.append(line)
        return lines

    def read_until(self, expected, timeout=5):
        """Every line up to and including EXPECTED."""
        deadline = Deadline(timeout)
        lines = []
        while True:
            line = self.readline(deadline.left() / SLOW)
            if line is None:
                raise AssertionError("%s: EOF while waiting for %r; got %r"
                                     % (self, expected, lines[-5:]))
            lines.append(line)
            if line == expected:
                return lines

    def read_to_eof(self, timeout=5):
        """Every line until the peer closes; then half-closes our side too,
        as nc does, so that a lingering close on the server ends at once."""
        deadline = Deadline(timeout)
        lines = []
        while True:
            line = self.readline(deadline.left() / SLOW)
            if line is None:
                try:
                    self.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return lines
            lines.append(line)

    def read_multiline(self, timeout=5):
        """A '+OK' reply with data lines up to '.'; returns (first, data)."""
        deadline = Deadline(timeout)
        first = self.readline(timeout)
        if first is None or not first.startswith("+OK"):
            raise AssertionError("%s: expected a +OK multi-line reply, got %r"
                                 % (self, first))
        data = []
        while True:
            line = self.readline(deadline.left() / SLOW)
            if line is None:
                raise AssertionError("%s: EOF inside a multi-line reply "
                                     "after %r" % (self, data))
            if line == ".":
                return first, data
            data.append(line[1:] if line.startswith(".") else line)

    def command(self, cmd, timeout=5):
        """Sends CMD and returns its multi-line reply (first, data)."""
        self.send(cmd + "\n")
        return self.read_multiline(timeout)

    def pump(self, data, until, timeout=10):
        """Sends DATA while reading, until line UNTIL arrives; returns the
        lines read.  Keeps this connection a reading one while it floods."""
        deadline = Deadline(timeout)
        view = memoryview(data)
        lines = []
        self.sock.setblocking(False)
        try:
            while True:
                line = self._take_line()
                while line is not None:
                    lines.append(line)
                    if line == until:
                        return lines
                    line = self._take_line()
                if self.eof:
                    raise AssertionError("%s: EOF while pumping; last %r"
                                         % (self, lines[-5:]))
                wset = [self.sock] if view else []
                r, w, _ = select.select([self.sock], wset, [], deadline.left())
                if not r and not w:
                    raise AssertionError(
                        "%s: %r did not arrive within %g s (%d bytes unsent)"
                        % (self, until, deadline.seconds, len(view)))
                if w:
                    try:
                        view = view[self.sock.send(view[:1 << 16]):]
                    except BlockingIOError:
                        pass
                if r:
                    self._fill(deadline)
        finally:
            self.sock.settimeout(T(10))


class Client(LineConn):
    """A chat client on 127.0.0.1:PORT; reads its welcome unless told not."""

    def __init__(self, port, welcome=True, rcvbuf=None):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(T(5))
        try:
            sock.connect(("127.0.0.1", port))
        except BaseException:
            sock.close()
            raise
        super().__init__(sock)
        self.id = None
        self.port = sock.getsockname()[1]
        self.server_port = port
        if welcome:
            self.read_welcome()

    def read_welcome(self):
        line = self.readline()
        m = WELCOME_RE.match(line or "")
        if not m:
            raise AssertionError("%s: first line is %r, not '* welcome ID'"
                                 % (self, line))
        self.id = int(m.group(1))
        return self.id

    def __repr__(self):
        return "client %s (port %d)" % (self.id, self.port)

    def expect_chat(self, sender, text, timeout=5):
        return self.expect_line("%d %s" % (sender.id, text), timeout)


class Control(LineConn):
    """A connection to the control socket at PATH."""

    def __init__(self, path):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(T(5))
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        super().__init__(sock)
        self.path = path

    def __repr__(self):
        return "control connection"


def parse_kv(lines):
    """['a=1', 'b=2', 'b=3'] -> {'a': ['1'], 'b': ['2', '3']}"""
    out = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep:
            raise AssertionError("not a key=value line: %r" % line)
        out.setdefault(key, []).append(value)
    return out


# --------------------------------------------------------------------------
# Processes, seen through /proc and pidfds

def children(pid):
    """The pids of PID's children (every thread's)."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
            out += [int(x) for x in f.read().split()]
    return sorted(out)


def starttime(pid):
    """Field 22 of /proc/PID/stat, or None if PID does not exist."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(text[text.rindex(")") + 2:].split()[19])


def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2]


def session_members(sid):
    """Pids of the live (non-zombie) processes in session SID."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                text = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(name))
    return sorted(out)


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            out.add(int(target[8:-1]))
    return out


def tcp_inode(local_port, remote_port):
    """Inode of the 127.0.0.1:LOCAL_PORT <-> 127.0.0.1:REMOTE_PORT socket."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            lport = int(fields[1].split(":")[1], 16)
            rport = int(fields[2].split(":")[1], 16)
            if lport == local_port and rport == remote_port:
                return int(fields[9])
    raise AssertionError("no TCP socket 127.0.0.1:%d <-> :%d"
                         % (local_port, remote_port))


class Proc:
    """A process we watch through a pidfd (exit is an event)."""

    def __init__(self, pid):
        self.pid = pid
        self.fd = os.pidfd_open(pid)
        self.start = starttime(pid)

    def exited(self, timeout=0):
        """True once the process has ended (waits up to TIMEOUT)."""
        return bool(select.select([self.fd], [], [], T(timeout))[0])

    def reaped(self):
        """Ended and no longer a zombie (its pid is gone or reused)."""
        return self.exited() and starttime(self.pid) != self.start

    def signal(self, sig):
        try:
            signal.pidfd_send_signal(self.fd, sig)
        except ProcessLookupError:
            pass

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __repr__(self):
        return "pid %d" % self.pid


def wait_exited(procs, timeout):
    """Waits until every Proc in PROCS has ended; returns those still alive
    at the deadline."""
    deadline = Deadline(timeout)
    pending = {p.fd: p for p in procs}
    while pending:
        ready = select.select(list(pending), [], [], deadline.left())[0]
        if not ready:
            break
        for fd in ready:
            del pending[fd]
    return list(pending.values())


def run_chatd(args, timeout=10):
    """Runs chatd to completion (for -t, -h, -V, bad options)."""
    return subprocess.run(WRAPPER + [CHATD] + list(args),
                          stdin=subprocess.DEVNULL, capture_output=True,
                          env=chat_env(), timeout=T(timeout))


# --------------------------------------------------------------------------
# One chatd under test

class Notify:
    """Our NOTIFY_SOCKET: an AF_UNIX datagram socket bound to PATH."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def _drain(self):
        while True:
            try:
                data = self.sock.recv(4096, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            self.messages.append(data.decode("utf-8", "replace"))

    def seen(self, field):
        self._drain()
        return any(field in m.split("\n") for m in self.messages)

    def wait_for(self, field, timeout, pidfd=None):
        """Waits for a datagram with line FIELD; fails if the process
        behind PIDFD ends first or the deadline passes."""
        deadline = Deadline(timeout)
        fds = [self.sock] + ([pidfd] if pidfd is not None else [])
        while not self.seen(field):
            ready = select.select(fds, [], [], deadline.left())[0]
            if not ready:
                raise AssertionError("no %s on NOTIFY_SOCKET within %g s "
                                     "(got %r)" % (field, deadline.seconds,
                                                   self.messages))
            if self.sock not in ready:
                if self.seen(field):
                    return
                raise AssertionError("chatd exited before sending %s "
                                     "(got %r)" % (field, self.messages))

    def close(self):
        self.sock.close()


class Server:
    """A chatd started for one test, in its own temporary directory.

    chatd always runs in a session of its own, so that whatever it leaves
    behind can be found (session id = its pid) and killed by pid.

    CHATD_CONF is appended to the [chatd] section of the written
    configuration (which starts with rate = 0 so that floods in tests are
    not slowed), EXTRA_CONF after it (other sections).  LISTEN is the
    number of -l 127.0.0.1:0 options; SOCK adds -s TMP/ctl.sock."""

    def __init__(self, chatd_conf="", extra_conf="", workers=2, listen=1,
                 sock=True, args=(), strict_log=True,
                 conf=None, ctl_path=None, config_opt="-c"):
        self.tmp = tempfile.mkdtemp(prefix="chatd-test-")
        self.conf_path = os.path.join(self.tmp, "chatd.conf")
        if conf is None:
            conf = "[chatd]\nrate = 0\n" + chatd_conf + extra_conf
        with open(self.conf_path, "w") as f:
            f.write(conf)
        self.ctl_path = ctl_path or os.path.join(self.tmp, "ctl.sock")
        self.notify = Notify(os.path.join(self.tmp, "notify.sock"))
        self.stderr_path = os.path.join(self.tmp, "stderr")
        self.stdout_path = os.path.join(self.tmp, "stdout")
        self.cmd = WRAPPER + [CHATD, config_opt, self.conf_path]
        self.cmd += ["-l", "127.0.0.1:0"] * listen
        if sock:
            self.cmd += ["-s", self.ctl_path]
        if workers:
            self.cmd += ["-w", str(workers)]
        self.cmd += list(args)
        self.strict_log = strict_log
        self.proc = None
        self.pidfd = None
        self.sup = None
        self.pid = None
        self.ctl = None
        self.ports = []
        self.port = None
        self.workers = []
        self.known = {}
        self.clients = []
        self.log_checked = False

    # -- life cycle ---------------------------------------------------------

    def spawn(self):
        with open(self.stderr_path, "wb") as err, \
                open(self.stdout_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=chat_env(NOTIFY_SOCKET=self.notify.path), cwd=self.tmp,
                start_new_session=True)
        self.pidfd = os.pidfd_open(self.proc.pid)

    def start(self):
        """Spawns chatd and waits for READY=1, then learns its pid, ports
        and workers from the control socket and /proc."""
        self.spawn()
        try:
            self.notify.wait_for("READY=1", 10, self.pidfd)
        except AssertionError as e:
            raise AssertionError("%s\nstderr:\n%s" % (e, self.stderr()))
        self.ctl = Control(self.ctl_path)
        st = self.status()
        self.pid = int(st["pid"][0])
        self.sup = Proc(self.pid) if self.pid != self.proc.pid else None
        self.ports = [int(v.rsplit(":", 1)[1]) for v in st.get("listen", [])]
        if not self.ports:
            raise AssertionError("/status has no listen= line: %r" % st)
        self.port = self.ports[0]
        self.workers = self.worker_procs()
        return self

    def worker_procs(self):
        """Proc objects for the supervisor's children now."""
        procs = []
        for pid in children(self.pid):
            if pid not in self.known:
                self.known[pid] = Proc(pid)
            procs.append(self.known[pid])
        return procs

    def signal(self, sig):
        """Sends SIG to the supervisor."""
        if self.sup:
            self.sup.signal(sig)
        else:
            signal.pidfd_send_signal(self.pidfd, sig)

    def killpg(self, sig):
        """Sends SIG to chatd's process group, as Ctrl-C does."""
        os.killpg(self.proc.pid, sig)

    def wait_exit(self, timeout=10):
        """Waits for chatd to exit; returns its exit status."""
        if not select.select([self.pidfd], [], [], T(timeout))[0]:
            raise AssertionError("chatd did not exit within %g s\nstderr:\n%s"
                                 % (T(timeout), self.stderr()))
        return self.proc.wait()

    def cleanup(self):
        """Kills whatever is left (by pid), then checks the log as it was
        before the kill (workers may rightly complain of a killed
        supervisor)."""
        bad_log = None
        if self.strict_log and not self.log_checked and self.proc:
            bad_log = self.bad_log_lines()
        try:
            for c in self.clients:
                c.close()
            if self.ctl:
                self.ctl.close()
            if self.proc is not None and self.proc.returncode is None:
                sup_alive = self.pid and not (
                    self.sup.exited() if self.sup else self.exited_now())
                if sup_alive:
                    try:
                        self.worker_procs()  # replacements started late
                    except (FileNotFoundError, ProcessLookupError):
                        pass
                if self.sup:
                    self.sup.signal(signal.SIGKILL)
                try:
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                for w in self.known.values():
                    w.signal(signal.SIGKILL)
                wait_exited(list(self.known.values()), 5)
                self.wait_exit(5)
            else:
                for w in self.known.values():
                    w.signal(signal.SIGKILL)
            if self.proc is not None:
                self._kill_leftovers()
            if bad_log:
                raise AssertionError("chatd logged above info or stray "
                                     "output:\n" + "\n".join(bad_log[:30]))
        finally:
            for w in self.known.values():
                w.close()
            if self.sup:
                self.sup.close()
            if self.pidfd is not None:
                os.close(self.pidfd)
            self.notify.close()
            try:
                LOGS.append((" ".join(self.cmd), self.stderr()))
            except OSError:
                pass
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _kill_leftovers(self):
        """Kills, by pid, any process still in chatd's session."""
        procs = []
        for pid in session_members(self.proc.pid):
            try:
                procs.append(Proc(pid))
            except (ProcessLookupError, FileNotFoundError):
                continue
        for p in procs:
            p.signal(signal.SIGKILL)
        wait_exited(procs, 5)
        for p in procs:
            p.close()

    def exited_now(self):
        return bool(select.select([self.pidfd], [], [], 0)[0])

    # -- what it says ------------------------------------------------------

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "backslashreplace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "backslashreplace")

    def bad_log_lines(self):
        """Lines on stderr that are not 'chatd[PID] ROLE: debug|info: ...',
        and anything at all on stdout."""
        bad = [line for line in self.stderr().splitlines()
               if not (LOG_RE.match(line) and
                       LOG_RE.match(line).group(3) in ("debug", "info"))]
        bad += ["stdout: " + line for line in self.stdout().splitlines()]
        return bad

    def assert_log_clean(self):
        """Nothing above info: every stderr line is a debug/info log line."""
        self.log_checked = True
        bad = self.bad_log_lines()
        if bad:
            raise AssertionError("chatd logged above info or stray output:\n"
                                 + "\n".join(bad[:30]))

    def status(self):
        """/status over the persistent control connection, as a dict of
        key -> list of values."""
        first, data = self.ctl.command("/status")
        return parse_kv(data)

    def who(self, conn=None):
        first, data = (conn or self.ctl).command("/who")
        return data

    # -- clients -------------------------------------------------------------

    def connect(self, port=None, **kw):
        c = Client(port or self.port, **kw)
        self.clients.append(c)
        return c

    def connect_many(self, n, **kw):
        return [self.connect(**kw) for _ in range(n)]

    def worker_of(self, client):
        """Pid of the worker process that holds CLIENT's connection."""
        inode = tcp_inode(client.server_port, client.port)
        for w in self.worker_procs():
            if inode in socket_inodes(w.pid):
                return w.pid
        raise AssertionError("no worker of %d holds %r's socket"
                             % (self.pid, client))

    def by_worker(self, clients):
        groups = {}
        for c in clients:
            groups.setdefault(self.worker_of(c), []).append(c)
        return groups

    # -- the clean shutdown, checked -----------------------------------------

    def assert_clean_exit(self, timeout=5):
        """chatd exits 0 within TIMEOUT (+1 s margin), STOPPING=1 arrived,
        no worker is left, the control socket is gone, the log is clean."""
        rc = self.wait_exit(timeout + 1)
        tail = "\nstderr:\n" + self.stderr()
        if rc != 0:
            raise AssertionError("exit status %d, not 0%s" % (rc, tail))
        left = [w for w in self.known.values() if not w.exited()]
        if left:
            raise AssertionError("workers still running after exit: %r%s"
                                 % (left, tail))
        others = session_members(self.proc.pid)
        if others:
            raise AssertionError("processes left in chatd's session after "
                                 "exit: %r%s" % (others, tail))
        zombies = [w for w in self.known.values() if not w.reaped()]
        if zombies:
            raise AssertionError("workers not reaped: %r%s" % (zombies, tail))
        if os.path.lexists(self.ctl_path):
            raise AssertionError("control socket %s not removed%s"
                                 % (self.ctl_path, tail))
        if not self.notify.seen("STOPPING=1"):
            raise AssertionError("no STOPPING=1 datagram (got %r)"
                                 % self.notify.messages)
        self.assert_log_clean()


def is_socket(path):
    return stat.S_ISSOCK(os.lstat(path).st_mode)


class ChatdTestCase(unittest.TestCase):
    """A TestCase that starts chatd servers and always cleans them up."""

    maxDiff = 6000   # long transcripts: show the start of the diff only

    def start_server(self, **kw):
        srv = Server(**kw)
        self.addCleanup(srv.cleanup)
        srv.start()
        return srv

    def spawn_server(self, **kw):
        """Starts chatd without waiting for READY (for failing starts)."""
        srv = Server(**kw)
        self.addCleanup(srv.cleanup)
        srv.spawn()
        return srv

    def make_tmp(self):
        tmp = tempfile.mkdtemp(prefix="chatd-test-")
        self.addCleanup(shutil.rmtree, tmp, True)
        return tmp
