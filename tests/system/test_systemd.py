"""chatd under systemd: the unit files, socket activation, the watchdog,
the journal's priority prefix, and the man pages.

systemd does not need to be running: systemd-analyze checks unit files
offline, systemd-socket-activate (or a small sh wrapper) hands chatd its
socket, and NOTIFY_SOCKET is our own datagram socket.

Environment, besides harness.py's:
  SRCDIR          top of the source tree (default: ../.. from here)
  CHATD_UNITDIR   if set, also verify the installed chatd.service and
                  chatd.socket found there (for installcheck)
"""

import fcntl
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import ChatdTestCase, Client, Control, Deadline, Server, T

SRCDIR = os.environ.get("SRCDIR") or harness.SRCDIR
SYSTEMD_DIR = os.path.join(SRCDIR, "systemd")
MAN_DIR = os.path.join(SRCDIR, "man")
ETC_CONF = os.path.join(SRCDIR, "etc", "chatd.conf")
MAN_PAGES = ("chatd.8", "chatctl.8", "chatd.conf.5")

# The exposure "systemd-analyze security --offline=true" gives
# chatd.service with systemd 252; README.md quotes it.  A unit change that
# makes it worse fails test_security_exposure.
EXPOSURE_MAX = 1.1

# The placeholders Makefile.am's sed rule fills in.
PLACEHOLDERS = ("@sbindir@", "@sysconfdir@", "@bindir@")

# "<N>ROLE: message", ROLE "supervisor" or "worker N" (sd-daemon(3)).
JOURNAL_RE = re.compile(r"^<([0-7])>(supervisor|worker [1-9][0-9]*): \S")


def tool(name):
    """Skips the test when the systemd tool NAME is not installed."""
    path = shutil.which(name)
    if path is None:
        raise unittest.SkipTest("%s is not installed" % name)
    return path


def read_unit(path):
    """A unit file as {section: [(key, value), ...]}."""
    sections, current = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], [])
                continue
            key, sep, value = line.partition("=")
            if not sep or current is None:
                raise AssertionError("%s: not a unit line: %r" % (path, raw))
            current.append((key.strip(), value.strip()))
    return sections


def unit_values(unit, section, key):
    return [v for k, v in unit.get(section, []) if k == key]


def unit_value(unit, section, key):
    values = unit_values(unit, section, key)
    if len(values) != 1:
        raise AssertionError("[%s] %s= given %d times, not once: %r"
                             % (section, key, len(values), values))
    return values[0]


def conf_value(path, section, key):
    """A value of the shipped chatd.conf (the last one given)."""
    current, found = None, None
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                current = line.strip("[]")
                continue
            name, _, value = line.partition("=")
            value = re.split(r"\s[;#]", value, 1)[0].strip()
            if current == section and name.strip() == key:
                found = value
    if found is None:
        raise AssertionError("%s has no %s in [%s]" % (path, key, section))
    return found


def install_units(tmp):
    """Fills in the placeholders as 'make' does, with this build's chatd as
    @sbindir@/chatd and a copy of etc/chatd.conf as @sysconfdir@/chatd.conf;
    returns the directory holding chatd.service and chatd.socket."""
    sbindir = os.path.dirname(os.path.abspath(harness.CHATD))
    etc = os.path.join(tmp, "etc")
    units = os.path.join(tmp, "units")
    os.makedirs(etc)
    os.makedirs(units)
    shutil.copy(ETC_CONF, os.path.join(etc, "chatd.conf"))
    with open(os.path.join(SYSTEMD_DIR, "chatd.service.in")) as f:
        text = f.read()
    for name, value in (("@sbindir@", sbindir), ("@sysconfdir@", etc),
                        ("@bindir@", sbindir)):
        text = text.replace(name, value)
    left = re.findall(r"@[A-Za-z_]+@", text)
    if left:
        raise AssertionError("chatd.service.in uses placeholders that "
                             "Makefile.am does not fill in: %r" % left)
    with open(os.path.join(units, "chatd.service"), "w") as f:
        f.write(text)
    shutil.copy(os.path.join(SYSTEMD_DIR, "chatd.socket"), units)
    return units


def install_man(tmp):
    """A MANPATH holding our pages, so that verify finds Documentation=."""
    top = os.path.join(tmp, "man")
    for page in MAN_PAGES:
        sect = os.path.join(top, "man" + page.rsplit(".", 1)[1])
        os.makedirs(sect, exist_ok=True)
        shutil.copy(os.path.join(MAN_DIR, page), sect)
    return top


def run_tool(args, env=None, timeout=30):
    return subprocess.run(args, stdin=subprocess.DEVNULL,
                          capture_output=True, env=env, timeout=T(timeout))


def listening_tcp_inodes():
    """{inode: port} of every listening TCP socket (IPv4 and IPv6)."""
    out = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":           # TCP_LISTEN
                    out[int(fields[9])] = int(fields[1].rsplit(":", 1)[1], 16)
    return out


def environ_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return [e.decode("utf-8", "replace")
                for e in f.read().split(b"\0") if e]


class TimedNotify:
    """Reads a harness.Notify socket, remembering when each datagram came."""

    def __init__(self, notify):
        self.notify = notify
        self.timed = []

    def _drain(self):
        while True:
            try:
                data = self.notify.sock.recv(4096, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            text = data.decode("utf-8", "replace")
            self.notify.messages.append(text)
            self.timed.append((time.monotonic(), text))

    def times(self, field):
        self._drain()
        return [t for t, m in self.timed if field in m.split("\n")]

    def wait_count(self, field, count, timeout, pidfd):
        """Waits until COUNT datagrams with line FIELD arrived since this
        object was made; returns their arrival times."""
        deadline = Deadline(timeout)
        while len(self.times(field)) < count:
            ready = select.select([self.notify.sock, pidfd], [], [],
                                  deadline.left())[0]
            if not ready:
                raise AssertionError("%d of %d %s within %g s (got %r)"
                                     % (len(self.times(field)), count, field,
                                        deadline.seconds,
                                        self.notify.messages))
            if self.notify.sock not in ready:
                raise AssertionError("chatd exited while waiting for %s"
                                     % field)
        return self.times(field)

    def quiet(self, field, seconds, pidfd):
        """Fails if a datagram with FIELD arrives within SECONDS."""
        deadline = Deadline(seconds)
        while deadline.left() > 0:
            if self.times(field):
                raise AssertionError("unexpected %s (got %r)"
                                     % (field, self.notify.messages))
            ready = select.select([self.notify.sock, pidfd], [], [],
                                  deadline.left())[0]
            if pidfd in ready:
                raise AssertionError("chatd exited")
        if self.times(field):
            raise AssertionError("unexpected %s (got %r)"
                                 % (field, self.notify.messages))


class SdServer(Server):
    """A Server started the way systemd would start it.

    ENV is added to chatd's environment (JOURNAL_STREAM=None means "the
    device and inode of our stderr file", as systemd sets it).  PREFIX is a
    command put in front of chatd's, such as an sh wrapper that sets
    LISTEN_PID=$$.  PASS_FDS are kept open in the child."""

    def __init__(self, env=None, prefix=(), pass_fds=(), **kw):
        kw.setdefault("strict_log", False)
        super().__init__(**kw)
        self.extra_env = dict(env or {})
        self.cmd = list(prefix) + self.cmd
        self.pass_fds = tuple(pass_fds)

    def spawn(self):
        with open(self.stderr_path, "wb") as err, \
                open(self.stdout_path, "wb") as out:
            env = harness.chat_env(NOTIFY_SOCKET=self.notify.path)
            for key, value in self.extra_env.items():
                if key == "JOURNAL_STREAM" and value is None:
                    st = os.fstat(err.fileno())
                    value = "%d:%d" % (st.st_dev, st.st_ino)
                env[key] = value
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=env, cwd=self.tmp, start_new_session=True,
                pass_fds=self.pass_fds)
        self.pidfd = os.pidfd_open(self.proc.pid)

    def chatd_log(self):
        """chatd's own stderr lines, in the plain format."""
        return [line for line in self.stderr().splitlines()
                if line.startswith("chatd[")]

    def assert_chatd_log_clean(self):
        bad = [line for line in self.chatd_log()
               if not (harness.LOG_RE.match(line) and
                       harness.LOG_RE.match(line).group(3) in
                       ("debug", "info"))]
        if bad:
            raise AssertionError("chatd logged above info:\n"
                                 + "\n".join(bad[:30]))


def sh_exec(exports):
    """An sh wrapper that exports EXPORTS (which may use $$, the shell's
    pid) and then execs the command after it, so that $$ is chatd's pid."""
    return ["sh", "-c", 'export %s; exec "$0" "$@"' % exports]


# What systemd does between fork and exec for a socket unit: the socket
# on fd 3, LISTEN_FDS=1, LISTEN_PID = the pid that then execs chatd.
_LISTEN_FDS_EXEC = """\
import os, sys
fd = int(sys.argv[1])
os.dup2(fd, 3)
os.close(fd)
os.environ.update(LISTEN_FDS="1", LISTEN_FDNAMES="chat",
                  LISTEN_PID=str(os.getpid()))
os.execvp(sys.argv[2], sys.argv[2:])
"""


def listen_fds_exec(fd):
    return [sys.executable, "-c", _LISTEN_FDS_EXEC, str(fd)]


# --------------------------------------------------------------------------

class UnitFileTest(unittest.TestCase):
    """The units, checked by systemd's own tools and against chatd.conf."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chatd-units-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.units = install_units(self.tmp)
        self.service = os.path.join(self.units, "chatd.service")
        self.socket = os.path.join(self.units, "chatd.socket")

    def verify(self, service, sock):
        """systemd-analyze verify SERVICE SOCK: exit 0, no word on them."""
        args = [tool("systemd-analyze"), "verify"]
        env = dict(os.environ)
        env.pop("SYSTEMD_LOG_LEVEL", None)
        if shutil.which("man"):
            env["MANPATH"] = install_man(self.tmp)  # Documentation= checked
        else:
            args.append("--man=no")
        r = run_tool(args + [service, sock], env=env)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        about_us = [line for line in out.splitlines() if "chatd" in line]
        self.assertEqual(r.returncode, 0, "systemd-analyze verify failed:\n"
                         + out)
        self.assertEqual(about_us, [], "systemd-analyze verify warns about "
                         "our units:\n" + out)

    def test_verify_passes(self):
        """systemd-analyze verify accepts chatd.service and chatd.socket,
        the binaries they name exist and the man pages they cite are
        found, without a single warning about them."""
        self.verify(self.service, self.socket)

    def test_verify_notices_a_missing_binary(self):
        """The check is real: a unit naming a missing chatd fails."""
        with open(self.service) as f:
            text = f.read()
        sbindir = os.path.dirname(os.path.abspath(harness.CHATD))
        bad_dir = os.path.join(self.tmp, "bad")
        os.makedirs(bad_dir)
        with open(os.path.join(bad_dir, "chatd.service"), "w") as f:
            f.write(text.replace(sbindir + "/chatd",
                                 os.path.join(self.tmp, "nowhere", "chatd")))
        r = run_tool([tool("systemd-analyze"), "verify", "--man=no",
                      os.path.join(bad_dir, "chatd.service")])
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"nowhere/chatd", r.stdout + r.stderr)

    def test_security_exposure(self):
        """systemd-analyze security --offline=true rates the service at
        most EXPOSURE_MAX ("OK"), the figure the README quotes."""
        r = run_tool([tool("systemd-analyze"), "security", "--offline=true",
                      self.service])
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        m = re.search(r"Overall exposure level for chatd\.service: "
                      r"([0-9]+\.[0-9]+) ([A-Z]+)", out)
        self.assertIsNotNone(m, "no exposure level in:\n" + out)
        level, word = float(m.group(1)), m.group(2)
        self.assertLessEqual(level, EXPOSURE_MAX, out)
        self.assertIn(word, ("OK", "SAFE"), out)

    def test_service_settings(self):
        """The settings chatd's design depends on (issue 4, running.md)."""
        unit = read_unit(self.service)
        want = {
            "Type": "notify",           # READY=1; systemd 252: no notify-reload
            "NotifyAccess": "main",     # only the supervisor notifies
            "KillMode": "mixed",        # SIGTERM to the supervisor only
            "User": "chatd",
            "Group": "chatd",
            "RuntimeDirectory": "chatd",  # $RUNTIME_DIRECTORY/chatd.sock
            "Restart": "on-failure",
        }
        for key, value in want.items():
            self.assertEqual(unit_value(unit, "Service", key), value, key)
        sbindir = os.path.dirname(os.path.abspath(harness.CHATD))
        conf = os.path.join(self.tmp, "etc", "chatd.conf")
        self.assertEqual(unit_value(unit, "Service", "ExecStart"),
                         "%s/chatd -c %s" % (sbindir, conf))
        # A reload checks the file (and fails on an error) before SIGHUP.
        self.assertEqual(unit_values(unit, "Service", "ExecReload"),
                         ["%s/chatd -t -c %s" % (sbindir, conf),
                          "/bin/kill -HUP $MAINPID"])
        # A failed ExecStartPre would be restarted despite
        # RestartPreventExitStatus=78, which sees only ExecStart's status.
        self.assertEqual(unit_values(unit, "Service", "ExecStartPre"), [])
        self.assertEqual(unit_value(unit, "Install", "WantedBy"),
                         "multi-user.target")

    def test_service_limits_fit_the_configuration(self):
        """Stop timeout above shutdown_timeout, open files above
        max_clients, a watchdog, and no restart loop on a bad file."""
        unit = read_unit(self.service)
        stop = float(unit_value(unit, "Service", "TimeoutStopSec"))
        drain = float(conf_value(ETC_CONF, "chatd", "shutdown_timeout"))
        self.assertGreater(stop, drain + 5, "TimeoutStopSec too short")
        nofile = int(unit_value(unit, "Service", "LimitNOFILE"))
        clients = int(conf_value(ETC_CONF, "chatd", "max_clients"))
        self.assertGreater(nofile, clients + 100, "LimitNOFILE too small")
        self.assertGreater(float(unit_value(unit, "Service", "WatchdogSec")),
                           0)
        prevent = unit_value(unit, "Service", "RestartPreventExitStatus")
        self.assertEqual(sorted(prevent.split()), ["2", "78"])

    def test_socket_settings(self):
        """Accept=no, for chatd.service, on the address chatd.conf uses."""
        unit = read_unit(self.socket)
        self.assertEqual(unit_value(unit, "Socket", "Accept"), "no")
        self.assertEqual(unit_value(unit, "Socket", "Service"),
                         "chatd.service")
        self.assertEqual(unit_value(unit, "Socket", "ListenStream"),
                         conf_value(ETC_CONF, "chatd", "listen"))
        self.assertEqual(unit_value(unit, "Install", "WantedBy"),
                         "sockets.target")

    def test_sysusers_creates_the_user_and_group(self):
        """systemd-sysusers makes the static chatd user and group that the
        unit's User= and Group= name (in a scratch root, not the host)."""
        root = os.path.join(self.tmp, "root")
        os.makedirs(os.path.join(root, "etc"))
        r = run_tool([tool("systemd-sysusers"), "--root=" + root,
                      os.path.join(SYSTEMD_DIR, "chatd-sysusers.conf")])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(root, "etc", "passwd")) as f:
            users = [line.split(":") for line in f.read().splitlines()]
        with open(os.path.join(root, "etc", "group")) as f:
            groups = [line.split(":") for line in f.read().splitlines()]
        user = [u for u in users if u[0] == "chatd"]
        group = [g for g in groups if g[0] == "chatd"]
        self.assertEqual(len(user), 1, users)
        self.assertEqual(len(group), 1, groups)
        self.assertEqual(user[0][3], group[0][2], "chatd's primary group")
        self.assertLess(int(user[0][2]), 1000, "not a system uid")
        self.assertTrue(user[0][6].endswith("nologin"), user[0])


# --------------------------------------------------------------------------

class SocketActivationTest(ChatdTestCase):
    """chatd serves the socket it is handed and binds nothing itself.

    The configuration says listen = 127.0.0.1:0, so a chatd that bound its
    own listener as well would show a second listening TCP socket."""

    CONF = "listen = 127.0.0.1:0\n"

    def check_serves_only(self, srv, port, inode):
        st = srv.status()
        self.assertEqual(st.get("listen"), ["127.0.0.1:%d" % port], st)
        a, b = srv.connect(), srv.connect()
        a.say("hello through the activated socket")
        a.expect_chat(a, "hello through the activated socket")
        b.expect_chat(a, "hello through the activated socket")
        ours = set()
        for pid in [srv.pid] + [w.pid for w in srv.worker_procs()]:
            ours |= harness.socket_inodes(pid)
        listening = {i: p for i, p in listening_tcp_inodes().items()
                     if i in ours}
        self.assertEqual(listening, {inode: port},
                         "chatd listens on more than the passed socket")
        for w in srv.worker_procs():
            env = [e for e in environ_of(w.pid) if e.startswith("LISTEN_")]
            self.assertEqual(env, [], "worker %d inherited %r" % (w.pid, env))

    def stop_cleanly(self, srv):
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait_exit(10), 0, srv.stderr())
        copier = getattr(srv, "copier", None)
        if copier is not None:
            copier.join(T(5))   # the rest of the log, up to EOF
        srv.assert_chatd_log_clean()

    def test_listen_fds_from_a_wrapper(self):
        """LISTEN_FDS=1 and LISTEN_PID=chatd's pid, our socket on fd 3:
        chatd serves it (sd_listen_fds(3) semantics)."""
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(lsock.close)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(16)
        port = lsock.getsockname()[1]
        inode = os.fstat(lsock.fileno()).st_ino
        fd = fcntl.fcntl(lsock.fileno(), fcntl.F_DUPFD, 10)
        self.addCleanup(os.close, fd)
        srv = SdServer(prefix=listen_fds_exec(fd),
                       chatd_conf=self.CONF, listen=0, pass_fds=(fd,))
        self.addCleanup(srv.cleanup)
        srv.start()
        self.check_serves_only(srv, port, inode)
        self.stop_cleanly(srv)
        # Not chatd's to shut down: the socket still accepts connections.
        probe = socket.create_connection(("127.0.0.1", port), T(5))
        probe.close()

    def test_listen_pid_of_another_process_is_ignored(self):
        """LISTEN_PID naming another process: chatd binds its own."""
        srv = SdServer(env={"LISTEN_PID": str(os.getpid()),
                            "LISTEN_FDS": "1"},
                       chatd_conf=self.CONF, listen=0)
        self.addCleanup(srv.cleanup)
        srv.start()
        self.assertEqual(len(srv.ports), 1)
        self.assertNotEqual(srv.ports[0], 0)
        srv.connect().say("still fine")
        self.stop_cleanly(srv)

    def test_systemd_socket_activate(self):
        """systemd-socket-activate -l 127.0.0.1:PORT starts chatd at the
        first connection; that client and the next ones are served."""
        activate = tool("systemd-socket-activate")
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()   # a free port for systemd-socket-activate to bind
        srv = SdServer(prefix=[activate, "-l", "127.0.0.1:%d" % port,
                               "-E", "NOTIFY_SOCKET"],
                       chatd_conf=self.CONF, listen=0)
        self.addCleanup(srv.cleanup)
        listening = self.spawn_activator(srv, port)
        # systemd-socket-activate execs chatd when the first client comes.
        first = Client(port, welcome=False)
        self.addCleanup(first.close)
        srv.notify.wait_for("READY=1", 10, srv.pidfd)
        first.read_welcome()
        first.say("first!")
        first.expect_chat(first, "first!")
        self.attach(srv)
        self.assertEqual(srv.pid, srv.proc.pid, "chatd is not exec'd")
        self.check_serves_only(srv, port, listening)
        self.stop_cleanly(srv)

    def spawn_activator(self, srv, port):
        """Starts systemd-socket-activate with its stderr in a pipe that a
        thread copies to srv's stderr file, and waits until it says it
        listens; returns the listening socket's inode."""
        env = harness.chat_env(NOTIFY_SOCKET=srv.notify.path)
        srv.proc = subprocess.Popen(
            srv.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env, cwd=srv.tmp,
            start_new_session=True)
        srv.pidfd = os.pidfd_open(srv.proc.pid)
        pipe = srv.proc.stderr
        log = open(srv.stderr_path, "ab")
        deadline = Deadline(10)
        seen = b""
        while b"Listening on" not in seen:
            if not select.select([pipe], [], [], deadline.left())[0]:
                raise AssertionError("systemd-socket-activate did not "
                                     "listen: %r" % seen)
            data = os.read(pipe.fileno(), 4096)
            if not data:
                raise AssertionError("systemd-socket-activate exited: %r"
                                     % seen)
            seen += data
            log.write(data)
            log.flush()

        def copy():
            with log:
                for chunk in iter(lambda: os.read(pipe.fileno(), 4096), b""):
                    log.write(chunk)
                    log.flush()
        srv.copier = threading.Thread(target=copy, daemon=True)
        srv.copier.start()
        inodes = [i for i, p in listening_tcp_inodes().items() if p == port]
        self.assertEqual(len(inodes), 1, "who listens on port %d?" % port)
        return inodes[0]

    def attach(self, srv):
        """What Server.start() does after READY=1."""
        srv.ctl = Control(srv.ctl_path)
        st = srv.status()
        srv.pid = int(st["pid"][0])
        srv.sup = harness.Proc(srv.pid) if srv.pid != srv.proc.pid else None
        srv.ports = [int(v.rsplit(":", 1)[1]) for v in st.get("listen", [])]
        srv.port = srv.ports[0]
        srv.workers = srv.worker_procs()


# --------------------------------------------------------------------------

class WatchdogTest(ChatdTestCase):
    """WATCHDOG=1 every half WATCHDOG_USEC, only for the right process."""

    USEC = 200000    # a ping every 0.1 s

    def start(self, **kw):
        srv = SdServer(**kw)
        self.addCleanup(srv.cleanup)
        srv.start()
        return srv

    def test_pings_arrive_with_watchdog_usec(self):
        """Two WATCHDOG=1 arrive, about WATCHDOG_USEC/2 apart."""
        srv = self.start(env={"WATCHDOG_USEC": str(self.USEC)})
        timed = TimedNotify(srv.notify)
        times = timed.wait_count("WATCHDOG=1", 2, 5, srv.pidfd)
        gap = times[1] - times[0]
        self.assertGreaterEqual(gap, self.USEC / 2e6 * 0.5,
                                "pings %.3f s apart, not every %.3f s"
                                % (gap, self.USEC / 2e6))
        srv.connect().say("the watchdog is not in the way")

    def test_pings_arrive_when_watchdog_pid_is_chatd(self):
        """WATCHDOG_PID naming chatd itself: pings arrive."""
        srv = self.start(prefix=sh_exec(
            "WATCHDOG_PID=$$ WATCHDOG_USEC=%d" % self.USEC))
        TimedNotify(srv.notify).wait_count("WATCHDOG=1", 2, 5, srv.pidfd)

    def test_no_pings_when_watchdog_pid_is_another_process(self):
        """WATCHDOG_PID naming another process (this test): no ping, for
        ten times the interval."""
        srv = self.start(env={"WATCHDOG_USEC": str(self.USEC),
                              "WATCHDOG_PID": str(os.getpid())})
        TimedNotify(srv.notify).quiet("WATCHDOG=1", 10 * self.USEC / 2e6,
                                      srv.pidfd)

    def test_no_pings_without_watchdog_usec(self):
        """No WATCHDOG_USEC, no pings."""
        srv = self.start()
        TimedNotify(srv.notify).quiet("WATCHDOG=1", 1, srv.pidfd)

    def test_workers_cannot_notify(self):
        """Workers get none of systemd's variables (NotifyAccess=main)."""
        srv = self.start(env={"WATCHDOG_USEC": str(self.USEC)})
        self.assertTrue(srv.workers)
        for w in srv.workers:
            env = [e for e in environ_of(w.pid)
                   if e.split("=", 1)[0] in ("NOTIFY_SOCKET", "WATCHDOG_USEC",
                                             "WATCHDOG_PID")]
            self.assertEqual(env, [], "worker %d has %r" % (w.pid, env))


# --------------------------------------------------------------------------

class JournalTest(ChatdTestCase):
    """With JOURNAL_STREAM set, log lines carry the sd-daemon prefix."""

    def check_journal_lines(self, text):
        lines = text.splitlines()
        self.assertTrue(lines, "nothing logged")
        bad = [line for line in lines if not JOURNAL_RE.match(line)]
        self.assertEqual(bad, [], "lines without the <N>ROLE: prefix")
        self.assertEqual([line for line in lines
                          if line.startswith("chatd[")], [])
        return lines

    def test_every_line_has_a_priority_prefix(self):
        """Start, a chat, a pipe, a refused and a good reload, SIGTERM: every
        stderr line of every process is "<N>ROLE: ...", with the priority of
        its level."""
        srv = SdServer(env={"JOURNAL_STREAM": None},
                       chatd_conf="log_level = debug\n",
                       extra_conf="[programs]\nupper = /usr/bin/tr a-z A-Z\n")
        self.addCleanup(srv.cleanup)
        srv.start()
        with open(srv.conf_path) as f:
            good = f.read()
        c = srv.connect()
        c.say("hi")
        c.expect_chat(c, "hi")
        c.say("/pipe upper shout")
        self.assertEqual(c.read_until("."), ["+OK exit=0", "SHOUT", "."])
        with open(srv.conf_path, "w") as f:
            f.write(good + "[bogus]\n")
        srv.ctl.say("/reload")
        self.assertTrue(srv.ctl.readline().startswith("-ERR"))
        with open(srv.conf_path, "w") as f:
            f.write(good)
        srv.ctl.say("/reload")
        self.assertTrue(srv.ctl.readline().startswith("+OK"))
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait_exit(10), 0, srv.stderr())
        lines = self.check_journal_lines(srv.stderr())
        prios = {JOURNAL_RE.match(line).group(1) for line in lines}
        roles = {JOURNAL_RE.match(line).group(2).split()[0] for line in lines}
        self.assertIn("6", prios, "no info line")
        self.assertIn("7", prios, "no debug line")
        self.assertIn("4", prios, "the refused reload is not a warning")
        self.assertEqual(roles, {"supervisor", "worker"})

    def test_a_bad_configuration_is_reported_with_a_priority(self):
        """A bad file at start under the journal: exit 78, and the
        FILE:LINE message carries an error priority (<3>) so that
        journalctl -p err shows why chatd did not start."""
        srv = SdServer(env={"JOURNAL_STREAM": None},
                       conf="[chatd]\nrate = fast\n")
        self.addCleanup(srv.cleanup)
        srv.spawn()
        self.assertEqual(srv.wait_exit(10), 78)
        text = srv.stderr()
        self.assertIn("chatd.conf:2:", text)
        for line in text.splitlines():
            self.assertRegex(line, r"^<[0-3]>")


# --------------------------------------------------------------------------

class ManPageTest(unittest.TestCase):
    """The man pages are clean mdoc and cover what they must."""

    def page(self, name):
        with open(os.path.join(MAN_DIR, name)) as f:
            return f.read()

    def test_mandoc_lint_is_silent(self):
        """mandoc -T lint -W warning prints nothing for any page."""
        mandoc = shutil.which("mandoc")
        self.assertIsNotNone(mandoc, "mandoc is not installed")
        for name in MAN_PAGES:
            with self.subTest(page=name):
                r = run_tool([mandoc, "-T", "lint", "-W", "warning",
                              os.path.join(MAN_DIR, name)])
                self.assertEqual((r.stdout + r.stderr).decode(), "")
                self.assertEqual(r.returncode, 0)

    def test_chatd_page_has_every_option(self):
        """Every option of chatd -h, and the exit statuses."""
        r = harness.run_chatd(["-h"])
        options = set(re.findall(r"(?<![\w-])(-[a-zA-Z]|--[a-z]+)\b",
                                 r.stdout.decode()))
        self.assertGreater(len(options), 10, options)
        text = self.page("chatd.8")
        for opt in sorted(options):
            mdoc = "Fl " + opt[1:].replace("-", "\\-")
            self.assertIn(mdoc, text, "chatd.8 lacks %s" % opt)
        for status in ("0", "1", "2", "78"):
            self.assertRegex(text, r"\n\.It %s\n" % status)
        for name in ("NOTIFY_SOCKET", "LISTEN_FDS", "WATCHDOG_USEC",
                     "JOURNAL_STREAM", "RUNTIME_DIRECTORY", "SIGHUP",
                     "SIGTERM", "SIGINT"):
            self.assertIn(name, text)

    def test_conf_page_has_every_key(self):
        """Every key of the shipped chatd.conf, commented ones too."""
        keys = set()
        with open(ETC_CONF) as f:
            for line in f:
                m = re.match(r"^[;]?([a-z_]+) = ", line)
                if m:
                    keys.add(m.group(1))
        self.assertIn("control", keys)
        text = self.page("chatd.conf.5")
        for key in sorted(keys - {"upper", "rev"}):
            self.assertIn(".It Cm %s No = " % key, text,
                          "chatd.conf.5 lacks %s" % key)

    def test_chatctl_page_has_every_command(self):
        text = self.page("chatctl.8")
        for cmd in ("status", "who", "ps", "kick", "timeout", "say",
                    "reload", "shutdown"):
            self.assertRegex(text, r"\n\.It Cm %s\b" % cmd)
        for status in ("0", "1", "2", "3"):
            self.assertRegex(text, r"\n\.It %s\n" % status)


if __name__ == "__main__":
    unittest.main()
