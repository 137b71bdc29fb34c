"""The command line: -t, -h, -V, bad options, -l -w -s -c and exit codes."""

import os
import re
import unittest

from harness import (ChatdTestCase, Control, SRCDIR, Server, children,
                     parse_kv, run_chatd)

GOOD_CONF = """\
; a comment
# another comment
[chatd]
listen = 127.0.0.1:0
listen = [::1]:0
workers = auto            ; trailing comment after a blank
control = {tmp}/ctl.sock
max_clients = 100
max_line = 2048
max_output = 65536
rate = 10
burst = 20
shutdown_timeout = 3
log_level = debug

[pipe]
timeout = 2
max_output = 4096
max_running = 4

[programs]
upper = /usr/bin/tr a-z A-Z
cat = /bin/cat
"""


class UsageTest(ChatdTestCase):

    def test_help_exits_0_with_usage(self):
        """-h and --help print the usage and exit 0."""
        for opt in ("-h", "--help"):
            with self.subTest(opt=opt):
                r = run_chatd([opt])
                self.assertEqual(r.returncode, 0, r.stderr)
                out = (r.stdout + r.stderr).decode()
                for flag in ("-c", "-l", "-w", "-s", "-t"):
                    self.assertIn(flag, out, "usage lacks %s" % flag)

    def test_version_exits_0_with_a_version(self):
        """-V and --version print a version number and exit 0."""
        for opt in ("-V", "--version"):
            with self.subTest(opt=opt):
                r = run_chatd([opt])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertRegex((r.stdout + r.stderr).decode(),
                                 r"chatd.*[0-9]+\.[0-9]+")

    def test_bad_option_prints_usage_and_exits_2(self):
        """An unknown option or a missing argument: usage on stderr, exit 2."""
        for args in (["-x"], ["--bogus"], ["-w"], ["-l"], ["--listen"]):
            with self.subTest(args=args):
                r = run_chatd(args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertRegex(r.stderr.decode(), r"(?i)usage|\[-c")


class CheckTest(ChatdTestCase):

    def check(self, text):
        tmp = self.make_tmp()
        path = os.path.join(tmp, "test.conf")
        with open(path, "w") as f:
            f.write(text.format(tmp=tmp))
        r = run_chatd(["-t", "-c", path])
        return path, r.returncode, r.stderr.decode()

    def assert_refused_at(self, text, *lines):
        path, rc, err = self.check(text)
        self.assertEqual(rc, 78, "stderr: %r" % err)
        pattern = r"(^|\s)%s:(%s): \S" % (re.escape(path),
                                          "|".join(map(str, lines)))
        self.assertRegex(err, re.compile(pattern, re.M))
        return err

    def test_good_file_passes(self):
        """-t on a valid file (every section, comments) exits 0."""
        path, rc, err = self.check(GOOD_CONF)
        self.assertEqual(rc, 0, err)

    def test_shipped_file_passes(self):
        """-t on the shipped etc/chatd.conf exits 0."""
        path = os.path.join(SRCDIR, "etc", "chatd.conf")
        self.assertTrue(os.path.exists(path), "%s is missing" % path)
        r = run_chatd(["-t", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_unknown_key_is_refused_with_its_line(self):
        """-t: an unknown key -> 'FILE:LINE: ...', exit 78."""
        self.assert_refused_at("[chatd]\nmax_line = 64\nbogus = 1\n", 3)

    def test_unknown_section_is_refused_with_its_line(self):
        """-t: an unknown section -> 'FILE:LINE: ...', exit 78."""
        # inih reports a section through its first key unless built with
        # INI_CALL_HANDLER_ON_NEW_SECTION: the header's line or the key's.
        self.assert_refused_at("[chatd]\nmax_line = 64\n[bogus]\nx = 1\n",
                               3, 4)

    def test_bad_values_are_refused_with_their_line(self):
        """-t: a bad number, level or address -> 'FILE:LINE: ...', exit 78."""
        for text, line in (("[chatd]\nrate = 0\nmax_line = lots\n", 3),
                           ("[chatd]\nlog_level = loud\n", 2),
                           ("[chatd]\n\nlisten = nowhere\n", 3),
                           ("[chatd]\nshutdown_timeout = -1\n", 2),
                           ("[pipe]\ntimeout = soon\n", 2)):
            with self.subTest(text=text):
                self.assert_refused_at(text, line)

    def test_program_must_be_an_absolute_executable(self):
        """-t: a relative or non-executable program path is refused."""
        for text, line in (("[programs]\nup = tr a-z A-Z\n", 2),
                           ("[programs]\n\nup = /etc/passwd\n", 3),
                           ("[programs]\nup = /nonexistent/prog\n", 2)):
            with self.subTest(text=text):
                self.assert_refused_at(text, line)

    def test_bad_file_at_start_exits_78_without_serving(self):
        """Started with a bad file, chatd reports FILE:LINE:, exits 78, never
        sends READY=1 and creates no control socket."""
        srv = self.spawn_server(conf="[chatd]\nworkers = many\n",
                                strict_log=False)
        self.assertEqual(srv.wait_exit(10), 78, srv.stderr())
        self.assertRegex(srv.stderr(), re.compile(
            r"(^|\s)%s:2: \S" % re.escape(srv.conf_path), re.M))
        self.assertFalse(srv.notify.seen("READY=1"))
        self.assertFalse(os.path.lexists(srv.ctl_path))


class OptionTest(ChatdTestCase):

    def test_workers_option_sets_the_number_of_workers(self):
        """-w 3 runs 3 worker processes, and /status says workers=3."""
        srv = self.start_server(workers=3)
        self.assertEqual(len(children(srv.pid)), 3)
        self.assertEqual(srv.status()["workers"], ["3"])

    def test_workers_auto_is_the_number_of_online_cpus(self):
        """workers = auto starts one worker per online CPU."""
        srv = self.start_server(workers=0, chatd_conf="workers = auto\n")
        self.assertEqual(len(children(srv.pid)),
                         os.sysconf("SC_NPROCESSORS_ONLN"))

    def test_options_override_the_file(self):
        """-w and -l replace the file's workers and listen values."""
        srv = self.start_server(
            workers=1, listen=1,
            chatd_conf="workers = 3\nlisten = 127.0.0.1:0\n"
                       "listen = 127.0.0.1:0\n")
        self.assertEqual(len(children(srv.pid)), 1)
        self.assertEqual(len(srv.status()["listen"]), 1)

    def test_long_options_work(self):
        """--config --listen --workers --socket are the long forms."""
        srv = Server(workers=0, listen=0, sock=False, config_opt="--config")
        srv.cmd += ["--listen", "127.0.0.1:0", "--workers", "3",
                    "--socket", srv.ctl_path]
        self.addCleanup(srv.cleanup)
        srv.start()
        self.assertEqual(len(children(srv.pid)), 3)
        c = srv.connect()
        c.say("long")
        c.expect_chat(c, "long")

    def test_listen_may_repeat(self):
        """Two -l options: two listeners, and clients on both chat together."""
        srv = self.start_server(listen=2)
        self.assertEqual(len(srv.ports), 2)
        self.assertNotEqual(srv.ports[0], srv.ports[1])
        a = srv.connect(port=srv.ports[0])
        b = srv.connect(port=srv.ports[1])
        a.say("from the first")
        b.expect_chat(a, "from the first")
        b.say("from the second")
        a.expect_chat(a, "from the first")
        a.expect_chat(b, "from the second")

    def test_file_supplies_listen_and_control(self):
        """Without -l and -s, the file's listen and control are used."""
        srv = Server(workers=2, listen=0, sock=False)
        srv.ctl_path = os.path.join(srv.tmp, "from-file.sock")
        with open(srv.conf_path, "w") as f:
            f.write("[chatd]\nlisten = 127.0.0.1:0\ncontrol = %s\n"
                    % srv.ctl_path)
        self.addCleanup(srv.cleanup)
        srv.start()
        self.assertEqual(len(srv.ports), 1)
        c = srv.connect()
        c.say("configured")
        c.expect_chat(c, "configured")
        ctl = Control(srv.ctl_path)
        self.addCleanup(ctl.close)
        self.assertEqual(parse_kv(ctl.command("/status")[1])["clients"],
                         ["1"])


if __name__ == "__main__":
    unittest.main()
