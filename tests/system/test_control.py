"""The control socket: mode, peer check, /status /who /say /shutdown."""

import os
import select
import signal
import socket
import stat
import unittest

from harness import (ChatdTestCase, Control, Deadline, Server, T, WRAPPER,
                     is_socket, parse_kv)


class ControlSocketTest(ChatdTestCase):

    def test_socket_has_mode_0600(self):
        """The control socket is a Unix socket with mode 0600."""
        srv = self.start_server()
        self.assertTrue(is_socket(srv.ctl_path))
        self.assertEqual(stat.S_IMODE(os.lstat(srv.ctl_path).st_mode), 0o600)

    def test_peer_with_another_uid_is_refused(self):
        """A peer with another uid gets '-ERR permission denied', then EOF."""
        if os.geteuid() != 0:
            self.skipTest("running a peer as another uid needs root")
        srv = self.start_server()
        # Mode 0600 and the 0700 temporary directory would stop uid 65534
        # at connect(); open both so that SO_PEERCRED is what refuses it.
        os.chmod(srv.tmp, 0o711)
        os.chmod(srv.ctl_path, 0o666)
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into unittest
            status = 1
            try:
                os.close(rfd)
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(T(5))
                s.connect(srv.ctl_path)
                try:
                    s.sendall(b"/status\n")
                except OSError:
                    pass
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                os.write(wfd, b"OK " + data)
                status = 0
            except BaseException as e:
                os.write(wfd, ("EXC %r" % e).encode())
            finally:
                os._exit(status)
        os.close(wfd)
        child = os.pidfd_open(pid)
        try:
            deadline = Deadline(10)
            out = b""
            while select.select([rfd], [], [], deadline.left())[0]:
                chunk = os.read(rfd, 65536)
                if not chunk:
                    break
                out += chunk
        finally:
            if not select.select([child], [], [], T(5))[0]:
                signal.pidfd_send_signal(child, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(child)
            os.close(rfd)
        self.assertEqual(out, b"OK -ERR permission denied\n")
        # ...and the server goes on serving its own uid.
        self.assertEqual(int(srv.status()["pid"][0]), srv.pid)

    def test_stale_socket_is_replaced(self):
        """A socket file left by a dead server is replaced at start."""
        srv = Server()
        self.addCleanup(srv.cleanup)
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(srv.ctl_path)
        stale.close()  # the file stays, nobody listens
        srv.start()
        self.assertEqual(int(srv.status()["pid"][0]), srv.pid)

    def test_live_socket_is_not_taken_over(self):
        """A second chatd on a live server's control socket refuses to start
        and leaves the first one reachable."""
        first = self.start_server()
        second = self.spawn_server(ctl_path=first.ctl_path, strict_log=False)
        rc = second.wait_exit(10)
        self.assertNotEqual(rc, 0, "second chatd started on a live socket")
        self.assertFalse(second.notify.seen("READY=1"))
        fresh = Control(first.ctl_path)
        self.addCleanup(fresh.close)
        first_line, data = fresh.command("/status")
        self.assertEqual(int(parse_kv(data)["pid"][0]), first.pid)


class StatusTest(ChatdTestCase):

    def test_status_reports_pid_workers_clients_pipes_and_listen(self):
        """/status: pid, uptime, workers, clients, messages, pipes, listen."""
        srv = self.start_server(workers=2)
        srv.connect_many(2)
        st = srv.status()
        for key in ("pid", "uptime", "workers", "clients", "messages",
                    "pipes"):
            self.assertEqual(len(st.get(key, [])), 1, "%s in %r" % (key, st))
        if not WRAPPER:
            self.assertEqual(int(st["pid"][0]), srv.proc.pid)
        self.assertGreaterEqual(int(st["uptime"][0]), 0)
        self.assertEqual(st["workers"], ["2"])
        self.assertEqual(st["clients"], ["2"])
        self.assertEqual(st["messages"], ["0"])
        self.assertEqual(st["pipes"], ["0"])
        self.assertEqual(st["listen"], ["127.0.0.1:%d" % srv.port])

    def test_status_counts_broadcast_messages_only(self):
        """messages= counts chat lines and /say, not commands or refused lines."""
        srv = self.start_server()
        a = srv.connect()
        a.send(b"one\n//two\n")
        a.expect_chat(a, "one")
        a.expect_chat(a, "/two")
        a.send(b"\n\x1bbad\n")
        self.assertTrue(a.readline().startswith("-ERR "))
        a.command("/who")
        srv.ctl.say("/say three")
        self.assertTrue(srv.ctl.readline().startswith("+OK"))
        a.expect_line("0 three")
        self.assertEqual(srv.status()["messages"], ["3"])

    def test_status_clients_counts_connections(self):
        """clients= is the number of connected chat clients."""
        srv = self.start_server()
        self.assertEqual(srv.status()["clients"], ["0"])
        srv.connect_many(3)
        self.assertEqual(srv.status()["clients"], ["3"])


class AdminCommandTest(ChatdTestCase):

    def test_say_broadcasts_as_id_0(self):
        """/say TEXT replies +OK and every chat client receives '0 TEXT'."""
        srv = self.start_server(workers=2)
        clients = srv.connect_many(4)
        srv.ctl.say("/say hello from the admin")
        self.assertTrue(srv.ctl.readline().startswith("+OK"))
        for c in clients:
            c.expect_line("0 hello from the admin")

    def test_shutdown_command_stops_the_server_cleanly(self):
        """/shutdown replies +OK, clients get '* shutdown' and EOF, exit 0."""
        srv = self.start_server(workers=2)
        clients = srv.connect_many(3)
        clients[0].say("last words")
        for c in clients:
            c.expect_chat(clients[0], "last words")
        srv.ctl.say("/shutdown")
        self.assertTrue(srv.ctl.readline().startswith("+OK"))
        for c in clients:
            self.assertEqual(c.read_to_eof(), ["* shutdown"])
            self.assertFalse(c.reset)
        srv.assert_clean_exit()

    def test_who_works_on_the_control_socket(self):
        """/who on the control socket lists the chat clients, ascending."""
        srv = self.start_server()
        clients = srv.connect_many(3)
        data = srv.who()
        self.assertEqual([line.split()[0] for line in data],
                         ["id=%d" % c.id for c in clients])
        self.assertEqual([line.split()[1] for line in data],
                         ["addr=127.0.0.1:%d" % c.port for c in clients])

    def test_help_works_on_the_control_socket(self):
        """/help on the control socket is a multi-line +OK reply."""
        srv = self.start_server()
        first, data = srv.ctl.command("/help")
        self.assertTrue(data)

    def test_non_command_line_is_refused(self):
        """A line that is not a command gets -ERR; the connection stays open."""
        srv = self.start_server()
        a = srv.connect()
        srv.ctl.say("hello there")
        self.assertTrue(srv.ctl.readline().startswith("-ERR"))
        self.assertEqual(srv.status()["messages"], ["0"])
        srv.ctl.say("/foo")
        srv.ctl.expect_line("-ERR unknown command /foo (try /help)")
        a.say("marker")
        a.expect_chat(a, "marker")   # the refused line was not broadcast

    def test_no_chat_lines_or_notices_on_the_control_socket(self):
        """The control socket gets replies only: no welcome, chat or bye."""
        srv = self.start_server()
        ctl = Control(srv.ctl_path)
        self.addCleanup(ctl.close)
        a, b = srv.connect(), srv.connect()
        a.say("chat")
        a.expect_chat(a, "chat")
        b.expect_chat(a, "chat")
        b.say("/quit")
        b.expect_line("* bye")
        # The supervisor writes this connection in order: anything it had
        # sent us before would precede the reply.
        first, data = ctl.command("/status")
        self.assertEqual(ctl.transcript[0], first)


if __name__ == "__main__":
    unittest.main()
