"""Workers: hand-off, death and replacement, supervisor death, fd leaks
(guarantees 5 and 6).

Which worker holds a client is read from /proc: the server side of the
client's TCP connection is found in /proc/net/tcp and its socket inode among
the workers' /proc/PID/fd links.
"""

import signal
import time
import unittest

from harness import (ChatdTestCase, Client, T, children, fd_count, parse_kv,
                     wait_exited)


class HandOffTest(ChatdTestCase):

    def test_connections_go_to_the_least_loaded_worker(self):
        """6 clients connected one after another spread 3 + 3 over 2 workers."""
        srv = self.start_server(workers=2)
        groups = srv.by_worker(srv.connect_many(6))
        self.assertEqual(sorted(len(g) for g in groups.values()), [3, 3])
        self.assertEqual(set(groups), {w.pid for w in srv.workers})


class WorkerDeathTest(ChatdTestCase):

    def two_workers_with_clients(self):
        srv = self.start_server(workers=2, strict_log=False)
        clients = srv.connect_many(6)
        groups = srv.by_worker(clients)
        self.assertEqual(len(groups), 2, "clients not spread over 2 workers")
        victim = srv.known[sorted(groups)[0]]
        victims = groups[victim.pid]
        survivors = [c for c in clients if c not in victims]
        survivors[0].say("before")
        for c in clients:
            c.expect_chat(survivors[0], "before")
        return srv, victim, victims, survivors

    def assert_others_keep_chatting(self, srv, survivors):
        survivors[-1].say("after")
        for c in survivors:
            c.expect_chat(survivors[-1], "after")   # not '* shutdown'
        newcomer = srv.connect()
        newcomer.say("newcomer")
        for c in survivors + [newcomer]:
            c.expect_chat(newcomer, "newcomer")
        survivors[0].say("welcome")
        for c in survivors + [newcomer]:
            c.expect_chat(survivors[0], "welcome")
        return newcomer

    def test_sigterm_to_one_worker_drains_only_its_clients(self):
        """SIGTERM to one worker: its clients get '* shutdown' and EOF, the
        worker exits, everyone else keeps chatting, newcomers too."""
        srv, victim, victims, survivors = self.two_workers_with_clients()
        victim.signal(signal.SIGTERM)
        for c in victims:
            self.assertEqual(c.read_to_eof(), ["* shutdown"], repr(c))
            self.assertFalse(c.reset, "%r was reset" % c)
        self.assertTrue(victim.exited(5), "the worker did not exit")
        self.assert_others_keep_chatting(srv, survivors)
        self.assertFalse(srv.exited_now(), "the supervisor exited")

    def test_sigkill_to_one_worker_spares_the_others(self):
        """SIGKILL to one worker: its clients see EOF, the others keep
        chatting with each other and with newcomers, and the server still
        shuts down cleanly afterwards."""
        srv, victim, victims, survivors = self.two_workers_with_clients()
        victim.signal(signal.SIGKILL)
        for c in victims:
            self.assertEqual(c.read_to_eof(), [], repr(c))
        newcomer = self.assert_others_keep_chatting(srv, survivors)
        srv.signal(signal.SIGTERM)
        for c in survivors + [newcomer]:
            self.assertEqual(c.read_to_eof(), ["* shutdown"], repr(c))
        self.assertEqual(srv.wait_exit(6), 0, srv.stderr())

    def replaced_after(self, sig, last_lines):
        """With one worker: kill it with SIG; a client that connects after
        its death is welcomed - so a worker serves it - by a new child.
        Issue 2 orders it: reap, forget the clients, start a replacement;
        so once the new worker serves, the old one is reaped and forgotten."""
        srv = self.start_server(workers=1, strict_log=False)
        a = srv.connect()
        old = srv.workers[0]
        old.signal(sig)
        self.assertEqual(a.read_to_eof(), last_lines)
        self.assertTrue(old.exited(5), "the worker did not exit")
        # b's welcome is the event that proves a worker serves it.  An
        # accepted connection gets '* welcome ID' first (only max_clients
        # may refuse one), so the server must hold b until a worker serves.
        b = srv.connect(welcome=False)
        first = b.readline()
        self.assertRegex(first or "", r"^\* welcome [0-9]+$",
                         "a client that connected while the only worker was "
                         "being replaced got %r" % first)
        b.id = int(first.split()[2])
        new = srv.worker_of(b)
        self.assertNotEqual(new, old.pid)
        self.assertEqual(children(srv.pid), [new])
        self.assertTrue(old.reaped(), "the dead worker is a zombie")
        b.say("hi")
        b.expect_chat(b, "hi")
        # a's worker is gone and a with it: /who and clients= forget it.
        self.assertEqual([x.split()[0] for x in srv.who()], ["id=%d" % b.id])
        self.assertEqual(srv.status()["clients"], ["1"])
        srv.signal(signal.SIGTERM)
        self.assertEqual(b.read_to_eof(), ["* shutdown"])
        self.assertEqual(srv.wait_exit(6), 0, srv.stderr())

    def test_worker_ended_by_sigterm_is_replaced(self):
        """A worker ended by SIGTERM is reaped and replaced by a new one."""
        self.replaced_after(signal.SIGTERM, ["* shutdown"])

    def test_worker_killed_by_sigkill_is_replaced(self):
        """A worker killed by SIGKILL is reaped and replaced by a new one."""
        self.replaced_after(signal.SIGKILL, [])


class BackoffTest(ChatdTestCase):

    def test_repeated_crashes_back_off(self):
        """A worker that keeps dying soon after it starts is restarted
        later each time (100, 200, 400 ms ...), not in a tight loop.  The
        replacement's existence is proved by a welcome: a client that
        connects while no worker serves waits in the backlog until one
        does."""
        srv = self.start_server(workers=1, strict_log=False)
        gaps = []
        for _ in range(3):
            worker = srv.worker_procs()[0]
            started = time.monotonic()
            worker.signal(signal.SIGKILL)
            self.assertTrue(worker.exited(T(5)), "worker did not die")
            c = srv.connect(welcome=False)
            c.read_welcome()
            gaps.append(time.monotonic() - started)
            c.close()
        self.assertGreaterEqual(gaps[0], 0.1, gaps)
        self.assertGreaterEqual(gaps[2], 0.4, gaps)
        self.assertGreater(gaps[2], gaps[0] + 0.15, gaps)
        log = srv.stderr()
        self.assertEqual(log.count("killed by signal 9"), 3, log)


class StuckWorkerTest(ChatdTestCase):

    def test_a_stopped_worker_is_replaced_and_the_others_go_on(self):
        """A worker that stops reading its channel (SIGSTOP) holds the
        chat back only for a while: once its queue has stayed full for 5 s
        it is killed and replaced, and the clients of the other worker
        chat again."""
        srv = self.start_server(workers=2, strict_log=False,
                                chatd_conf="max_output = 67108864\n")
        a, b = srv.connect_many(2)
        groups = srv.by_worker([a, b])
        self.assertEqual(len(groups), 2, "a and b share a worker")
        stuck = srv.worker_of(b)
        proc = [w for w in srv.worker_procs() if w.pid == stuck][0]
        proc.signal(signal.SIGSTOP)
        self.addCleanup(proc.signal, signal.SIGCONT)
        # 16 MB of chat: more than the stopped worker's channel holds
        # (its socket buffer and the supervisor's 8 MiB queue), so the
        # supervisor stops reading; the marker comes back only once the
        # stopped worker has been replaced.
        data = (("x" * 1000 + "\n") * 16384 + "marker\n").encode()
        a.pump(data, "%d marker" % a.id, timeout=T(30))
        self.assertTrue(proc.exited(T(5)), "stopped worker not killed")
        c = srv.connect()
        c.say("after")
        c.expect_chat(c, "after")
        self.assertIn("has not read its channel", srv.stderr())


class SupervisorDeathTest(ChatdTestCase):

    def test_workers_exit_within_2s_of_supervisor_sigkill(self):
        """After SIGKILL to the supervisor no worker remains 2 s later."""
        srv = self.start_server(workers=2, strict_log=False)
        clients = srv.connect_many(4)
        workers = srv.worker_procs()
        self.assertEqual(len(workers), 2)
        srv.signal(signal.SIGKILL)
        left = wait_exited(workers, 2)
        self.assertEqual(left, [], "workers alive 2 s after the supervisor")
        for c in clients:
            c.read_to_eof()   # their connections end too


class FdLeakTest(ChatdTestCase):

    def test_1000_connect_disconnect_cycles_leak_no_fd(self):
        """1000 connect/welcome/close cycles leave every process's fd count
        unchanged and the server with no forgotten client.

        Why the final count is taken at the right moment, without polling:
        - the supervisor: it closes its copy of a connection in the accept
          callback that hands it off; our /status is read by the same loop
          later, so its reply proves those callbacks are finished.  The
          persistent control connection is open in both measurements.
        - each worker: a probe client on every worker (connected before the
          cycles) sends a line after the last cycle's close().  On loopback
          the FIN is queued on the server's socket before close() returns,
          so each cycle's EOF was readable before the probe's line; epoll
          reports readiness in that order and libevent runs the callbacks in
          it, so the worker has closed every cycle's fd before it forwards
          the probe's line, whose echo we wait for on every probe.
        - /status clients= equal to the number of probes confirms that the
          supervisor heard of every close."""
        srv = self.start_server(workers=2)
        probes = srv.connect_many(2)
        groups = srv.by_worker(probes)
        self.assertEqual(len(groups), 2, "probes not on both workers")
        pids = [srv.pid] + [w.pid for w in srv.workers]
        srv.status()
        before = {pid: fd_count(pid) for pid in pids}
        for _ in range(1000):
            c = Client(srv.port)
            c.close()
        for p in probes:
            p.say("probe %d" % p.id)
            for q in probes:
                q.expect_chat(p, "probe %d" % p.id)
        self.assertEqual(parse_kv(srv.ctl.command("/status")[1])["clients"],
                         ["2"])
        after = {pid: fd_count(pid) for pid in pids}
        self.assertEqual(after, before, "fd counts (pid: count) changed")


if __name__ == "__main__":
    unittest.main()
