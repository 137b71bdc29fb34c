"""/ps: the server's processes with their real pids, compared with /proc."""

import os
import unittest

from harness import WRAPPER, ChatdTestCase, children
from cmdutil import Hold, cmdline, conf, programs_conf, ps, raw_reply, sync, \
    who

WORKERS = 3


def ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    return int(text[text.rindex(")") + 2:].split()[1])


class PsTest(ChatdTestCase):

    def start(self, workers=WORKERS):
        self.hold = Hold(self.make_tmp())
        self.addCleanup(self.hold.close)
        text = conf(extra=programs_conf({"hold": self.hold.command()},
                                        {"timeout": 30}))
        return self.start_server(conf=text, workers=workers)

    def check_ps(self, srv, first, rows, pipes=0):
        """ROWS (from /ps) name the supervisor, then each worker with its
        number and client count, then PIPES programs; pids as in /proc."""
        self.assertEqual(first, "+OK %d processes" % (1 + WORKERS + pipes))
        self.assertEqual(len(rows), 1 + WORKERS + pipes, rows)
        sup = rows[0]
        self.assertEqual(sup, {"pid": str(srv.pid), "role": "supervisor"})
        if not WRAPPER:
            self.assertEqual(srv.pid, srv.proc.pid)
        self.assertTrue(os.path.basename(cmdline(srv.pid)[0]) == "chatd" or
                        WRAPPER, cmdline(srv.pid))
        workers = [r for r in rows if r["role"] == "worker"]
        self.assertEqual(rows[1:1 + WORKERS], workers, "workers come second")
        for r in workers:
            self.assertEqual(sorted(r), ["clients", "pid", "role", "worker"])
        self.assertEqual(sorted(int(r["pid"]) for r in workers),
                         children(srv.pid), "worker pids vs /proc")
        self.assertEqual(sorted(int(r["worker"]) for r in workers),
                         list(range(1, WORKERS + 1)))
        counts = {}
        for row in who(srv.ctl).values():
            counts[row["worker"]] = counts.get(row["worker"], 0) + 1
        for r in workers:
            pid, num = int(r["pid"]), int(r["worker"])
            self.assertEqual(ppid(pid), srv.pid)
            argv = cmdline(pid)
            self.assertIn("--worker", argv, "pid %d: %r" % (pid, argv))
            self.assertEqual(argv[argv.index("--worker") + 1], str(num))
            self.assertEqual(int(r["clients"]), counts.get(num, 0),
                             "clients= of worker %d" % num)
        return {int(r["worker"]): int(r["pid"]) for r in workers}, \
            [r for r in rows if r["role"] == "pipe"]

    def test_ps_pids_are_the_real_processes(self):
        """/ps pids are the supervisor and its worker children."""
        # /ps from a client: the supervisor's pid, its children = the workers
        # (with --worker N in their command line), clients= per worker as /who
        # has it.
        srv = self.start()
        clients = srv.connect_many(5)
        first, rows = ps(clients[2])
        numbers, pipes = self.check_ps(srv, first, rows)
        self.assertEqual(pipes, [])
        for c in clients:   # /who's worker= is the process that has it
            n = who(srv.ctl)[c.id]["worker"]
            self.assertEqual(numbers[n], srv.worker_of(c), repr(c))

    def test_ps_from_the_control_socket(self):
        """/ps on the control socket: the same processes as from a client."""
        srv = self.start()
        clients = srv.connect_many(4)
        first, rows = ps(srv.ctl)
        self.check_ps(srv, first, rows)
        self.assertEqual(ps(clients[0]), (first, rows))

    def test_ps_shows_a_running_pipe_program(self):
        """/ps lists a running program with its real pid."""
        # A running program: 'pid=P role=pipe name=hold client=ID worker=N
        # age=S', P a child of worker N's process and running the configured
        # program; gone from /ps once it has ended.
        srv = self.start()
        clients = srv.connect_many(2 * WORKERS)
        rows = who(srv.ctl)
        a = clients[0]
        mates = [c for c in clients[1:]
                 if rows[c.id]["worker"] == rows[a.id]["worker"]]
        self.assertTrue(mates, "no second client on a's worker: %r" % rows)
        b = mates[0]
        a.say("/pipe hold in")
        conn, pid = self.hold.wait_started()
        # b's worker (= a's) told the supervisor of the program before it
        # read b's line.
        sync(b)
        for conn_ in (srv.ctl, b):
            first, data = ps(conn_)
            numbers, pipes = self.check_ps(srv, first, data, pipes=1)
            p = pipes[0]
            self.assertEqual(sorted(p), ["age", "client", "name", "pid",
                                         "role", "worker"])
            self.assertEqual(int(p["pid"]), pid)
            self.assertEqual(p["name"], "hold")
            self.assertEqual(int(p["client"]), a.id)
            self.assertEqual(int(p["worker"]), rows[a.id]["worker"])
            self.assertRegex(p["age"], r"^(0|[1-9][0-9]*)$")
            self.assertLessEqual(int(p["age"]), 2)
            self.assertIn(pid, children(numbers[int(p["worker"])]))
            self.assertEqual(cmdline(pid)[-2:],
                             self.hold.command().split()[-2:])
        conn.close()
        self.assertEqual(raw_reply(a, 10, skip_chat=True),
                         ("+OK exit=0", ["released", "in"]))
        sync(b)
        first, data = ps(srv.ctl)
        self.assertEqual(self.check_ps(srv, first, data)[1], [])


if __name__ == "__main__":
    unittest.main()
