"""Clean shutdown (guarantee 4): signals, no loss, bounded time."""

import signal
import time
import unittest

from harness import ChatdTestCase, T, parse_chat


class SignalShutdownTest(ChatdTestCase):

    def shutdown_with_50_clients(self, send_signal):
        srv = self.start_server(workers=2)
        clients = srv.connect_many(50)
        clients[7].say("before the signal")
        for c in clients:
            c.expect_chat(clients[7], "before the signal")
        send_signal(srv)
        for c in clients:
            self.assertEqual(c.read_to_eof(), ["* shutdown"], repr(c))
            self.assertFalse(c.reset, "%r was reset" % c)
        srv.assert_clean_exit()

    def test_sigint_with_50_clients(self):
        """SIGINT: 50 clients get '* shutdown' then EOF; exit 0, nothing left."""
        self.shutdown_with_50_clients(lambda s: s.signal(signal.SIGINT))

    def test_sigterm_with_50_clients(self):
        """SIGTERM: 50 clients get '* shutdown' then EOF; exit 0, nothing left."""
        self.shutdown_with_50_clients(lambda s: s.signal(signal.SIGTERM))

    def test_ctrl_c_to_the_process_group_with_50_clients(self):
        """SIGINT to the whole process group (Ctrl-C) is one orderly shutdown."""
        self.shutdown_with_50_clients(lambda s: s.killpg(signal.SIGINT))

    def test_idle_server_stops_on_sigterm(self):
        """With no client, SIGTERM ends chatd with status 0 and a clean log."""
        srv = self.start_server(workers=2)
        srv.signal(signal.SIGTERM)
        srv.assert_clean_exit()


class NoLossTest(ChatdTestCase):
    """Every line the server had read before the signal reaches everyone.

    Each sender sends a burst and a sync line in one write and waits for the
    sync line's echo: the server has provably read the whole first burst.
    Then every sender writes a second burst and the signal follows at once.
    Lines of the second burst may or may not have been read; whatever was
    read must reach every client, so all clients see identical sequences
    (total order), each a gap-free prefix per sender, then '* shutdown'."""

    def burst_then_signal(self, send_signal):
        srv = self.start_server(workers=2)
        senders = srv.connect_many(4)
        listeners = srv.connect_many(2)
        clients = senders + listeners
        n = 100
        seen = {c.id: [] for c in clients}

        def burst(s, tag):
            return ["%s%03d from %d" % (tag, j, s.id) for j in range(n)]

        for s in senders:
            s.send("".join(x + "\n" for x in burst(s, "a") + ["sync"]))
        for s in senders:
            seen[s.id] += s.read_until("%d sync" % s.id, timeout=10)
        for s in senders:
            s.send("".join(x + "\n" for x in burst(s, "b")))
        send_signal(srv)

        for c in clients:
            seen[c.id] += c.read_to_eof(timeout=10)
        for c in clients:
            self.assertFalse(c.reset, "%r was reset (no lingering close); "
                             "last lines %r" % (c, seen[c.id][-3:]))
            self.assertEqual(seen[c.id][-1:], ["* shutdown"], repr(c))
        chats = {cid: lines[:-1] for cid, lines in seen.items()}
        reference = chats[senders[0].id]
        for cid, lines in chats.items():
            self.assertEqual(lines, reference,
                             "client %d's sequence differs" % cid)
        delivered = []
        for s in senders:
            mine = [parse_chat(x)[1] for x in reference
                    if parse_chat(x) and parse_chat(x)[0] == s.id]
            first = burst(s, "a") + ["sync"]
            self.assertEqual(mine[:len(first)], first)
            self.assertEqual(mine[len(first):],
                             burst(s, "b")[:len(mine) - len(first)],
                             "the second burst is not a prefix")
            delivered.append(len(mine) - len(first))
        srv.assert_clean_exit()
        return delivered

    def test_burst_before_sigint_reaches_everyone(self):
        """What the server read before SIGINT reaches every client first."""
        self.burst_then_signal(lambda s: s.signal(signal.SIGINT))

    def test_burst_before_ctrl_c_reaches_everyone(self):
        """The same when SIGINT hits the whole process group (Ctrl-C)."""
        self.burst_then_signal(lambda s: s.killpg(signal.SIGINT))


class SlowClientShutdownTest(ChatdTestCase):

    def test_client_that_never_reads_does_not_delay_exit(self):
        """With a client that never reads and MBs queued for it, chatd still
        exits 0 within shutdown_timeout (2 s) plus a margin."""
        srv = self.start_server(
            workers=2,
            chatd_conf="shutdown_timeout = 2\nmax_output = 268435456\n")
        stuck = srv.connect(rcvbuf=4096)   # reads its welcome, then nothing
        talker = srv.connect()
        line = "y" * 1000
        # 8 MB: more than the kernel's socket buffers (up to 4 MB) can take,
        # so MBs stay queued inside the server for the stuck client.
        data = ((line + "\n") * 8000 + "last\n").encode()
        talker.pump(data, "%d last" % talker.id, timeout=20)
        started = time.monotonic()
        srv.signal(signal.SIGINT)
        self.assertEqual(talker.read_to_eof(timeout=10), ["* shutdown"])
        rc = srv.wait_exit(2 + 1.5)
        took = time.monotonic() - started
        self.assertEqual(rc, 0, srv.stderr())
        self.assertLessEqual(took, T(3.5))
        srv.assert_clean_exit()
        stuck.close()


if __name__ == "__main__":
    unittest.main()
