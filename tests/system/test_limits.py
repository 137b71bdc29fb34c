"""Limits (guarantee 7 and what operators expect): slow consumers, the rate
limit with TCP back-pressure, max_clients, running out of descriptors."""

import os
import re
import resource
import select
import socket
import time
import unittest

from harness import WRAPPER, ChatdTestCase, Deadline, T, tcp_inode
from cmdutil import Reader, conf, cpu_seconds, mux, server_rss_kb, status, \
    who

SEQ_RE = re.compile(r"^([0-9]+) ([0-9]{6}) x+$")


def rx_queue(inode):
    """Bytes waiting in the receive queue of the TCP socket INODE."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[9]) == inode:
                return int(fields[4].split(":")[1], 16)
    raise AssertionError("no TCP socket with inode %d" % inode)


class SlowConsumerTest(ChatdTestCase):

    def test_never_reading_client_is_dropped_and_others_keep_pace(self):
        """A never-reading client is dropped; others keep pace."""
        # A client that never reads (small SO_RCVBUF) is disconnected once its
        # unread output passes max_output (1 MB), with '* slow' or just EOF; 5
        # reading clients receive all 6000 lines (6 MB) in order within the
        # deadline; the server's RSS stays under 64 MB.
        srv = self.start_server(workers=2, chatd_conf="max_output = 1048576\n")
        slow = srv.connect(rcvbuf=4096)
        readers = srv.connect_many(5)
        sender = readers[0]
        rows = who(srv.ctl)
        self.assertTrue([r for r in readers if rows[r.id]["worker"] ==
                         rows[slow.id]["worker"]],
                        "no reader on the slow client's worker: %r" % rows)
        n, per_chunk, pad = 6000, 100, 990
        subs = [Reader(c) for c in readers]
        seqs = {c.id: [] for c in readers}
        peak = [server_rss_kb(srv)]

        def seen(r):
            # Lines are checked as they come; only their numbers are kept.
            for line in r.lines:
                m = SEQ_RE.match(line)
                if not m or int(m.group(1)) != sender.id:
                    raise AssertionError("%r: unexpected line %r"
                                         % (r.client, line[:80]))
                seqs[r.client.id].append(int(m.group(2)))
            r.lines.clear()
            return len(seqs[r.client.id])

        deadline = Deadline(30)
        for k in range(0, n, per_chunk):
            chunk = "".join("%06d %s\n" % (j, "x" * pad)
                            for j in range(k, k + per_chunk))
            # The readers keep up: at most two chunks (200 kB) in flight.
            mux(subs, writer=sender, data=chunk.encode(),
                until=lambda r: seen(r) >= k - per_chunk,
                timeout=deadline.left() / T(1))
            peak[0] = max(peak[0], server_rss_kb(srv))
        mux(subs, until=lambda r: seen(r) >= n,
            timeout=deadline.left() / T(1))
        for c in readers:
            self.assertEqual(seqs[c.id], list(range(n)),
                             "%r lost or reordered lines" % c)
        if not WRAPPER:   # valgrind's own memory is no measure of chatd's
            self.assertLess(peak[0], 64 * 1024, "server RSS %d kB" % peak[0])
        self.assertNotIn(slow.id, who(srv.ctl), "slow client still listed")
        lines = slow.read_to_eof(timeout=10)
        chat = lines[:-1] if lines[-1:] == ["* slow"] else lines
        got = [int(SEQ_RE.match(x).group(2)) for x in chat]
        self.assertEqual(got, list(range(len(got))),
                         "slow client: not a prefix of the flood")
        self.assertLess(len(got), n, "slow client got everything")
        self.assertRegex(srv.stderr(),
                         r"(?m)^chatd\[[0-9]+\] worker [0-9]+: info: "
                         r".*\b%d\b" % slow.id,
                         "the drop is not logged at info")
        sender.say("after")
        for c in readers:
            c.expect_chat(sender, "after", timeout=10)


class RateTest(ChatdTestCase):

    def test_310_lines_at_rate_100_burst_10(self):
        """310 lines at rate 100, burst 10: all, in order, >= 2 s."""
        # rate = 100, burst = 10: 310 lines sent at once all arrive, in order,
        # none refused, and take at least 2 s (first send to last echo);
        # another client is not slowed meanwhile.
        srv = self.start_server(workers=1,
                                conf=conf("rate = 100\nburst = 10\n"))
        a, b = srv.connect_many(2)
        lines = ["r%03d" % k for k in range(310)]
        t0 = time.monotonic()
        a.send("".join(x + "\n" for x in lines))
        b.expect_chat(a, lines[0])
        t1 = time.monotonic()
        b.say("not slowed")
        seen_b = b.read_until("%d not slowed" % b.id)
        took_b = time.monotonic() - t1
        self.assertLess(took_b, T(0.5), "b waited %.2f s" % took_b)
        echoes = a.read_until("%d %s" % (a.id, lines[-1]), timeout=15)
        took = time.monotonic() - t0
        mine = [x for x in echoes if x.startswith("%d " % a.id)]
        self.assertEqual(mine, ["%d %s" % (a.id, x) for x in lines])
        self.assertEqual([x for x in echoes if not x.startswith("%d " % a.id)],
                         ["%d not slowed" % b.id])
        self.assertGreaterEqual(took, 2.0, "310 lines took %.2f s" % took)
        self.assertLess(took, T(10), "310 lines took %.2f s" % took)
        seen_b += b.read_until("%d %s" % (a.id, lines[-1]), timeout=10)
        got_b = [x for x in seen_b if x.startswith("%d " % a.id)]
        self.assertEqual(["%d %s" % (a.id, lines[0])] + got_b,
                         ["%d %s" % (a.id, x) for x in lines])

    def test_flooding_client_is_held_back_by_tcp(self):
        """A flood over the rate is held back by TCP."""
        # Over its rate the client's socket is not read: a 32 MB flood at rate
        # = 100 cannot be sent within 2 s, bytes wait in the server's receive
        # queue, and the worker's memory does not grow with it.
        srv = self.start_server(workers=1,
                                conf=conf("rate = 100\nburst = 10\n"))
        a, = srv.connect_many(1)
        inode = tcp_inode(srv.port, a.port)
        rss0 = server_rss_kb(srv)
        block = ("f" * 99 + "\n").encode() * 655
        total, sent = 32 << 20, 0
        a.sock.setblocking(False)
        deadline = Deadline(2)
        while sent < total:
            if not select.select([], [a.sock], [], deadline.left())[1]:
                break
            try:
                sent += a.sock.send(block)
            except BlockingIOError:
                pass
        a.sock.setblocking(True)
        self.assertLess(sent, total, "the whole flood went through")
        self.assertGreater(rx_queue(inode), 0,
                           "nothing waits in the server's receive queue")
        grew = server_rss_kb(srv) - rss0
        if not WRAPPER:   # valgrind's own memory is no measure of chatd's
            self.assertLess(grew, 8 * 1024, "server RSS grew by %d kB" % grew)
        b = srv.connect()
        b.say("served")   # a's lines trickle in meanwhile
        b.read_until("%d served" % b.id)


class MaxClientsTest(ChatdTestCase):

    def raw_connect(self, port):
        s = socket.create_connection(("127.0.0.1", port), timeout=T(5))
        self.addCleanup(s.close)
        return s

    def read_all(self, s, timeout=5):
        """Everything until EOF: (bytes, reset?)."""
        deadline = Deadline(timeout)
        data = b""
        while True:
            if not select.select([s], [], [], deadline.left())[0]:
                raise AssertionError("no EOF within %g s; got %r"
                                     % (deadline.seconds, data))
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, False
            data += chunk

    def test_sixth_client_at_max_clients_5_is_refused(self):
        """The 6th client at max_clients = 5 gets '-ERR server full'."""
        # max_clients = 5: the 6th connection gets only '-ERR server full' and
        # EOF (also when it sent data first); after one of the 5 leaves
        # (kicked: synchronous) a new one is accepted.
        srv = self.start_server(workers=2, chatd_conf="max_clients = 5\n")
        clients = srv.connect_many(5)
        sixth = self.raw_connect(srv.port)
        self.assertEqual(self.read_all(sixth), (b"-ERR server full\n", False))
        pushy = self.raw_connect(srv.port)
        pushy.sendall(("z" * 99 + "\n").encode() * 1000)
        self.assertEqual(self.read_all(pushy), (b"-ERR server full\n", False))
        self.assertEqual(status(srv.ctl)["clients"], ["5"])
        srv.ctl.say("/kick %d" % clients[1].id)
        srv.ctl.expect_line("+OK kicked %d" % clients[1].id)
        newcomer = srv.connect()
        self.assertGreater(newcomer.id, clients[-1].id)
        newcomer.say("in")
        newcomer.expect_chat(newcomer, "in")
        again = self.raw_connect(srv.port)
        self.assertEqual(self.read_all(again), (b"-ERR server full\n", False))


class DescriptorTest(ChatdTestCase):
    """The supervisor out of descriptors (RLIMIT_NOFILE lowered with
    prlimit to what it has open) must not spin on its listening sockets."""

    def exhaust(self, srv):
        """Lowers the supervisor's soft limit to its lowest free descriptor
        number: every descriptor it could get is taken."""
        old = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
        self.addCleanup(self.restore, srv, old)
        # A connection just handed to a worker may still be open here until
        # the supervisor's loop comes round: a request makes sure it has.
        status(srv.ctl)
        soft = old[0]
        for _ in range(5):   # again if a descriptor closed meanwhile
            used = self.fds(srv)
            lowest = min(set(range(len(used) + 1)) - set(used))
            if lowest >= soft:
                break
            soft = lowest
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (soft, old[1]))
        self.exhausted_at = (soft, used)
        return old

    def fds(self, srv):
        """The supervisor's descriptors: {number: what}."""
        out = {}
        for x in os.listdir("/proc/%d/fd" % srv.pid):
            try:
                out[int(x)] = os.readlink("/proc/%d/fd/%s" % (srv.pid, x))
            except FileNotFoundError:
                pass
        return out

    def restore(self, srv, old):
        try:
            resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)
        except ProcessLookupError:
            pass

    def warnings(self, srv):
        return [x for x in srv.stderr().splitlines()
                if not re.match(r"^chatd\[[0-9]+\] [a-z0-9 ]+: "
                                r"(debug|info): ", x)]

    def flood(self, port, n):
        socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.addCleanup(s.close)
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            socks.append(s)
        return socks

    def welcomes(self, socks, timeout):
        """Waits until every socket in SOCKS got its '* welcome' line."""
        deadline = Deadline(timeout)
        bufs = {s: b"" for s in socks}
        pending = set(socks)
        while pending:
            ready = select.select(list(pending), [], [], deadline.left())[0]
            if not ready:
                raise AssertionError("%d of %d connections got no welcome "
                                     "within %g s" % (len(pending), len(socks),
                                                      deadline.seconds))
            for s in ready:
                chunk = s.recv(4096)
                if not chunk:
                    raise AssertionError("EOF before the welcome: %r"
                                         % bufs[s])
                bufs[s] += chunk
                if b"\n" in bufs[s]:
                    self.assertRegex(bufs[s].split(b"\n")[0],
                                     rb"^\* welcome [1-9][0-9]*$")
                    pending.discard(s)

    def silence(self, socks, seconds, srv=None):
        """Nothing arrives on SOCKS for SECONDS (nobody is accepted)."""
        ready = select.select(socks, [], [], T(seconds))[0]
        got = [s.recv(200) for s in ready[:3]]
        self.assertEqual(ready, [], "accepted while out of descriptors: %r; "
                         "limit and fds then %r, fds now %r"
                         % (got, getattr(self, "exhausted_at", None),
                            srv and self.fds(srv)))

    def test_accept_flood_out_of_descriptors_does_not_spin(self):
        """EMFILE: an accept flood does not spin the supervisor."""
        # With no descriptor left, 100 waiting connections cost the supervisor
        # little CPU over 1.5 s and one warning; the control connection still
        # answers; once the limit is back every waiting connection is served.
        srv = self.start_server(workers=2, strict_log=False)
        old = self.exhaust(srv)
        cpu0 = cpu_seconds(srv.pid)
        socks = self.flood(srv.port, 100)
        self.silence(socks, 1.5, srv)
        used = cpu_seconds(srv.pid) - cpu0
        self.assertLess(used, 0.2, "supervisor used %.2f s of CPU in 1.5 s"
                        % used)
        self.assertEqual(status(srv.ctl)["clients"], ["0"])
        warned = self.warnings(srv)
        self.assertEqual(len(warned), 1, "\n".join(warned[:10]))
        self.assertRegex(warned[0], r"supervisor: warning: .*descriptor")
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)
        self.welcomes(socks, 4)
        c = srv.connect()
        c.say("served")
        c.expect_chat(c, "served")
        self.assertEqual(status(srv.ctl)["clients"], ["101"])

    def test_clients_leaving_while_out_of_descriptors(self):
        """EMFILE: clients leaving do not spin it either."""
        # Clients that leave while the supervisor is out of descriptors do not
        # make it spin either; service resumes with the limit back.
        srv = self.start_server(workers=2, strict_log=False)
        clients = srv.connect_many(10)
        old = self.exhaust(srv)
        cpu0 = cpu_seconds(srv.pid)
        socks = self.flood(srv.port, 50)
        for c in clients[:5]:
            c.say("/quit")
        for c in clients[:5]:
            self.assertEqual(c.read_to_eof(), ["* bye"])
        self.silence(socks, 1.5, srv)
        used = cpu_seconds(srv.pid) - cpu0
        self.assertLess(used, 0.2, "supervisor used %.2f s of CPU" % used)
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)
        self.welcomes(socks, 4)
        clients[5].say("still")
        for c in clients[5:]:
            c.expect_chat(clients[5], "still")

    def test_control_connection_out_of_descriptors_does_not_spin(self):
        """EMFILE: a control connection does not spin it."""
        # A control-socket connection that cannot be accepted (no descriptor
        # left) does not make the supervisor spin or flood its log; it is
        # served once the limit is back.
        srv = self.start_server(workers=1, strict_log=False)
        old = self.exhaust(srv)
        cpu0 = cpu_seconds(srv.pid)
        waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(waiting.close)
        waiting.connect(srv.ctl_path)
        # Short: a spinning supervisor logs a million lines a second.
        self.silence([waiting], 0.5)
        used = cpu_seconds(srv.pid) - cpu0
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, old)
        warned = self.warnings(srv)
        self.assertLess(used, 0.1, "supervisor used %.2f s of CPU in 0.5 s; "
                        "%d log lines" % (used, len(warned)))
        self.assertLessEqual(len(warned), 1, "\n".join(warned[:5]))
        waiting.sendall(b"/status\n")
        waiting.settimeout(T(5))
        self.assertTrue(waiting.recv(4096).startswith(b"+OK"))


if __name__ == "__main__":
    unittest.main()
