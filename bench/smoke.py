"""make check: chatbench once at a tiny size against chatd.

Runs `bench/run --smoke` (N=10 subscribers, T=1 s, throughput mode, chatd
only, no redis needed): it fails when chatbench reports any loss,
duplicate, reordering or other error, when chatd logs above info level, or
when chatd does not exit cleanly.  Also checks that chatbench refuses bad
usage with status 2.  A benchmark, not a timed test: no figure is judged.

Environment: CHATD (the binary), CHATBENCH (default bench/chatbench in the
current directory, the build tree under `make check`).
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run")


def chatbench_env():
    env = dict(os.environ)
    built = os.path.join(os.getcwd(), "bench", "chatbench")
    if not env.get("CHATBENCH") and os.access(built, os.X_OK):
        env["CHATBENCH"] = built
    return env


class SmokeTest(unittest.TestCase):
    def test_smoke_run(self):
        p = subprocess.run([sys.executable, RUN, "--smoke"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=45, env=chatbench_env())
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        results = [line for line in p.stderr.splitlines()
                   if line.startswith("RESULT ")]
        self.assertEqual(len(results), 1, p.stderr[-3000:])
        fields = dict(f.split("=", 1) for f in results[0].split()[1:])
        self.assertEqual(fields["errors"], "0", results[0])
        self.assertEqual(fields["n"], "10", results[0])
        self.assertGreater(int(fields["msgs"]), 0, results[0])
        self.assertEqual(fields["pub_echo"], fields["msgs"], results[0])

    def test_bad_usage(self):
        env = chatbench_env()
        exe = env.get("CHATBENCH")
        if not exe:
            self.skipTest("no built chatbench (set CHATBENCH)")
        for args in ([], ["--port", "1", "--mode", "nope"],
                     ["--port", "1", "--payload", "10"],
                     ["--port", "1", "-n", "50000", "--procs", "1"]):
            p = subprocess.run([exe] + args, capture_output=True,
                               timeout=10)
            self.assertEqual(p.returncode, 2, (args, p.stderr))


if __name__ == "__main__":
    unittest.main()
