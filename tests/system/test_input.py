"""The bad-input rules: line length, UTF-8, control characters.

"Nothing was broadcast" is proven by causality, not by waiting: after the
bad lines the sender sends a marker line, and the next chat line every
client receives must be that marker (one sender's lines keep their order,
so a broadcast bad line would have arrived before it).
"""

import random
import unittest

from harness import ChatdTestCase, vm_rss_kb


class InputCase(ChatdTestCase):

    def pair(self, **kw):
        srv = self.start_server(**kw)
        return srv, srv.connect(), srv.connect()

    def assert_refused(self, sender, listener, bad_lines, expected=None):
        """Each of BAD_LINES (bytes, newline added) gets one -ERR line, none is
        broadcast, and the connection still works afterwards."""
        for raw in bad_lines:
            sender.send(raw + b"\n")
            line = sender.readline()
            if expected is not None:
                self.assertEqual(line, expected, "reply to %r" % raw)
            else:
                self.assertTrue(line is not None and line.startswith("-ERR "),
                                "reply to %r is %r, not -ERR" % (raw, line))
        self.assert_marker(sender, listener)

    def assert_marker(self, sender, listener, text="marker"):
        sender.say(text)
        sender.expect_chat(sender, text)
        listener.expect_chat(sender, text)


class LengthTest(InputCase):

    def test_line_of_exactly_max_line_bytes_is_broadcast(self):
        """A line of exactly max_line bytes is accepted."""
        srv, a, b = self.pair(chatd_conf="max_line = 64\n")
        a.say("a" * 64)
        a.expect_chat(a, "a" * 64)
        b.expect_chat(a, "a" * 64)

    def test_line_of_max_line_plus_one_bytes_is_refused(self):
        """max_line + 1 bytes -> '-ERR line too long (max N bytes)'."""
        srv, a, b = self.pair(chatd_conf="max_line = 64\n")
        self.assert_refused(a, b, [b"b" * 65, b"c" * 200],
                            "-ERR line too long (max 64 bytes)")

    def test_line_ending_is_not_counted(self):
        """The CRLF or LF is excluded from max_line."""
        srv, a, b = self.pair(chatd_conf="max_line = 64\n")
        a.send(b"d" * 64 + b"\r\n")
        a.expect_chat(a, "d" * 64)
        b.expect_chat(a, "d" * 64)

    def test_limit_counts_bytes_not_characters(self):
        """max_line is in bytes: 32 two-byte characters fit in 64, 33 do not."""
        srv, a, b = self.pair(chatd_conf="max_line = 64\n")
        a.say("é" * 32)
        a.expect_chat(a, "é" * 32)
        b.expect_chat(a, "é" * 32)
        self.assert_refused(a, b, [("é" * 33).encode()],
                            "-ERR line too long (max 64 bytes)")

    def test_overlong_line_is_refused_before_its_newline(self):
        """The -ERR comes as soon as the line passes the limit, before its LF."""
        srv, a, b = self.pair(chatd_conf="max_line = 64\n")
        a.send(b"e" * 65)
        a.expect_line("-ERR line too long (max 64 bytes)")
        a.send(b"e" * 1000 + b"\n")
        self.assert_marker(a, b)

    def test_ten_megabyte_line_gets_one_error_and_costs_no_memory(self):
        """10 MB with no newline: one -ERR (default max 1024), the connection
        still works, and no process's RSS grew by more than 1 MB."""
        srv, a, b = self.pair(workers=2)
        self.assert_marker(a, b, "warm up")
        pids = [srv.pid] + [w.pid for w in srv.workers]
        before = {pid: vm_rss_kb(pid) for pid in pids}
        a.send(b"f" * (10 * 1024 * 1024), timeout=20)
        a.expect_line("-ERR line too long (max 1024 bytes)")
        a.send(b"\n")
        a.say("hello")
        a.expect_chat(a, "hello")   # not a second -ERR first
        b.expect_chat(a, "hello")
        after = {pid: vm_rss_kb(pid) for pid in pids}
        for pid in pids:
            self.assertLessEqual(after[pid] - before[pid], 1024,
                                 "pid %d RSS %d kB -> %d kB"
                                 % (pid, before[pid], after[pid]))


class Utf8Test(InputCase):

    def test_overlong_forms_are_refused(self):
        """Overlong UTF-8 encodings get -ERR and are not broadcast."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\xc0\xaf", b"a\xe0\x80\xafb",
                                   b"\xf0\x80\x80\xaf", b"\xc1\xbf"])

    def test_surrogates_are_refused(self):
        """UTF-16 surrogates encoded in UTF-8 get -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\xed\xa0\x80", b"x\xed\xbf\xbfx"])

    def test_code_points_above_10ffff_are_refused(self):
        """Sequences above U+10FFFF and the bytes F5..FF get -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
                                   b"\xfe", b"ab\xffcd"])

    def test_truncated_sequences_are_refused(self):
        """A multi-byte sequence cut short (at the end or mid-line) gets -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\xe2\x82", b"abc\xe2\x82",
                                   b"\xe2\x82xyz", b"\xf0\x9d\x84"])

    def test_stray_continuation_bytes_are_refused(self):
        """A continuation byte without a lead byte gets -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\x80", b"abc\xbfdef"])

    def test_valid_multibyte_text_is_broadcast_unchanged(self):
        """Valid UTF-8 of 2, 3 and 4 bytes, edge code points included, passes."""
        srv, a, b = self.pair()
        for text in ("héllo €𝄞", "\u00a0\u07ff\u0800\ud7ff\ue000\ufffd",
                     "\U00010000\U0010ffff"):
            a.say(text)
            a.expect_chat(a, text)
            b.expect_chat(a, text)


class ControlCharacterTest(InputCase):

    def test_escape_is_refused(self):
        """ESC (terminal escape sequences) gets -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\x1b[31mred", b"\x1b"])

    def test_nul_is_refused(self):
        """NUL inside a line gets -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"a\x00b", b"\x00"])

    def test_lone_cr_is_refused(self):
        """A CR that is not the one before the LF gets -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"a\rb", b"\rabc", b"a\r\r"])

    def test_other_c0_controls_are_refused(self):
        """C0 controls other than TAB get -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\x01", b"bell\x07", b"\x0b", b"\x0c",
                                   b"x\x1f"])

    def test_del_is_refused(self):
        """DEL (0x7F) gets -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\x7f", b"ab\x7f"])

    def test_c1_controls_are_refused(self):
        """C1 controls U+0080..U+009F get -ERR."""
        srv, a, b = self.pair()
        self.assert_refused(a, b, [b"\xc2\x80", b"\xc2\x9f", b"x\xc2\x85y"])

    def test_tab_is_allowed(self):
        """TAB inside text is broadcast."""
        srv, a, b = self.pair()
        a.say("a\tb\t")
        a.expect_chat(a, "a\tb\t")
        b.expect_chat(a, "a\tb\t")


class RobustnessTest(InputCase):

    def test_random_garbage_does_not_disturb_the_server(self):
        """200 KB of random bytes neither closes the client nor stops the
        server; the next valid line is broadcast to everyone."""
        srv, a, b = self.pair(workers=2)
        rng = random.Random(2)
        junk = bytes(rng.getrandbits(8) for _ in range(200 * 1024))
        junk = junk.replace(b"/", b"x")   # no accidental /quit
        a.pump(junk + b"\n\nmarker\n", "%d marker" % a.id, timeout=20)
        b.read_until("%d marker" % a.id, timeout=20)
        c = srv.connect()
        c.say("newcomer")
        for x in (a, b, c):
            x.read_until("%d newcomer" % c.id)


if __name__ == "__main__":
    unittest.main()
