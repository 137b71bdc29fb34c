"""Welcome, broadcast, total order and delivery (guarantees 1 and 2)."""

import random
import threading
import unittest

from harness import ChatdTestCase, Deadline, SLOW, T, parse_chat, short


class WelcomeTest(ChatdTestCase):

    def test_first_line_is_welcome_with_id(self):
        """The first line on an accepted connection is `* welcome ID`."""
        srv = self.start_server()
        c = srv.connect(welcome=False)
        self.assertRegex(c.readline(), r"^\* welcome [1-9][0-9]*$")

    def test_ids_ascend_and_are_never_reused(self):
        """Ids ascend with each connection and are not reused after one ends."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        ids = [a.id, b.id]
        a.close()
        b.say("/quit")
        b.expect_line("* bye")
        self.assertEqual(b.read_to_eof(), [])
        for _ in range(6):
            c = srv.connect()
            ids.append(c.id)
            c.close()
        self.assertEqual(ids, sorted(set(ids)), "ids not strictly ascending")


class BroadcastTest(ChatdTestCase):

    def test_message_reaches_every_client_including_sender(self):
        """A chat line from ID reaches every client, sender included, as 'ID TEXT'."""
        srv = self.start_server(workers=2)
        clients = srv.connect_many(4)
        for k, sender in enumerate(clients):
            sender.say("hello from %d" % k)
            for c in clients:
                c.expect_chat(sender, "hello from %d" % k)

    def test_text_is_broadcast_byte_for_byte(self):
        """The text, blanks included, is relayed unchanged."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        text = "  two  spaces, trailing   "
        a.say(text)
        for c in (a, b):
            c.expect_chat(a, text)

    def test_double_slash_is_broadcast_with_one_slash(self):
        """'//text' is broadcast as '/text'."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.send("//x\n//quit\n// spaced\n")
        for c in (a, b):
            c.expect_chat(a, "/x")
            c.expect_chat(a, "/quit")
            c.expect_chat(a, "/ spaced")

    def test_empty_lines_are_ignored(self):
        """Empty lines (LF or CRLF) produce no broadcast and no reply."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.send("\n\r\n\n")
        a.say("after")
        for c in (a, b):
            c.expect_chat(a, "after")

    def test_crlf_ends_a_line_like_lf(self):
        """A CR before the LF is dropped."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.send("hi\r\nthere\n")
        for c in (a, b):
            c.expect_chat(a, "hi")
            c.expect_chat(a, "there")

    def test_line_split_over_many_writes_is_one_message(self):
        """A line sent in pieces (one byte per write) is one message."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        for ch in "pieces\n":
            a.send(ch)
        for c in (a, b):
            c.expect_chat(a, "pieces")

    def test_many_lines_in_one_write_are_all_broadcast(self):
        """Several lines in one write are separate messages, in order."""
        srv = self.start_server()
        a, b = srv.connect(), srv.connect()
        a.send("".join("line %d\n" % i for i in range(50)))
        for c in (a, b):
            self.assertEqual(c.read_lines(50),
                             ["%d line %d" % (a.id, i) for i in range(50)])


class OrderTest(ChatdTestCase):

    def test_concurrent_senders_share_one_total_order(self):
        """4 concurrent senders x 200 lines: every client gets all 800 in one
        identical order, each sender's lines in the order sent."""
        srv = self.start_server(workers=2)
        senders = srv.connect_many(4)
        listeners = srv.connect_many(3)
        n = 200
        errors = []
        barrier = threading.Barrier(len(senders))

        def send(sender, seed):
            try:
                data = "".join("m%03d from %d\n" % (j, sender.id)
                               for j in range(n)).encode()
                rng = random.Random(seed)
                chunks, i = [], 0
                while i < len(data):  # random cuts, also inside lines
                    step = rng.randint(1, 80)
                    chunks.append(data[i:i + step])
                    i += step
                barrier.wait(T(5))
                for chunk in chunks:
                    sender.sock.sendall(chunk)
            except BaseException as e:  # reported by the main thread
                errors.append(e)

        threads = [threading.Thread(target=send, args=(s, k))
                   for k, s in enumerate(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(T(10))
        self.assertFalse([t for t in threads if t.is_alive()],
                         "sender threads did not finish")
        self.assertEqual(errors, [])

        seqs = {}
        for c in senders + listeners:
            seqs[c.id] = c.read_lines(n * len(senders), timeout=10)
        reference = seqs[senders[0].id]
        for cid, seq in seqs.items():
            self.assertEqual(seq, reference,
                             "client %d saw another order" % cid)
        for s in senders:
            mine = [line for line in reference
                    if parse_chat(line)[0] == s.id]
            self.assertEqual(mine, ["%d m%03d from %d" % (s.id, j, s.id)
                                    for j in range(n)])

    def test_late_joiner_receives_every_message_after_its_welcome(self):
        """A client that joins mid-stream receives a gap-free suffix of the
        stream that includes everything sent after its welcome."""
        srv = self.start_server(workers=2)
        s, r, t = srv.connect(), srv.connect(), srv.connect()
        n = 3000
        errors = []

        def stream():
            try:
                for j in range(n):
                    s.sock.sendall(b"n%04d\n" % j)
            except BaseException as e:
                errors.append(e)

        thread = threading.Thread(target=stream)
        thread.start()
        try:
            # Join once the stream is visibly under way.
            seen_r = r.read_until("%d n0100" % s.id, timeout=10)
            late = srv.connect()
            t.say("after welcome")
        finally:
            thread.join(T(10))
        self.assertFalse(thread.is_alive(), "stream thread did not finish")
        self.assertEqual(errors, [])
        s.say("end")
        # t's line and s's "end" come from two connections: the server may
        # read them in either order, so wait for both.
        marks = {"%d end" % s.id, "%d after welcome" % t.id}
        seen_r += read_until_all(r, marks)
        seen_late = read_until_all(late, marks)

        stream_r = [x for x in seen_r if parse_chat(x)[0] == s.id]
        self.assertEqual(stream_r, ["%d n%04d" % (s.id, j) for j in range(n)]
                         + ["%d end" % s.id])
        self.assertFalse("%d n0000" % s.id in seen_late,
                         "the late client got lines from before it joined")
        self.assertTrue(seen_late == seen_r[len(seen_r) - len(seen_late):],
                        "the late client's lines are not a contiguous suffix "
                        "of the stream: late %s, full %s"
                        % (short(seen_late), short(seen_r)))


def read_until_all(conn, marks, timeout=10):
    """Lines from CONN until every line in MARKS has arrived."""
    deadline = Deadline(timeout)
    lines, missing = [], set(marks)
    while missing:
        line = conn.read_lines(1, deadline.left() / SLOW)[0]
        lines.append(line)
        missing.discard(line)
    return lines


if __name__ == "__main__":
    unittest.main()
