"""Run by `make installcheck` only (not part of `make check`): the units
that `make install` put in CHATD_UNITDIR verify with systemd-analyze."""

import os
import unittest

import test_systemd


class InstalledUnitsTest(unittest.TestCase):

    setUp = test_systemd.UnitFileTest.setUp
    verify = test_systemd.UnitFileTest.verify

    def test_installed_units_verify(self):
        """The installed chatd.service and chatd.socket verify."""
        unitdir = os.environ["CHATD_UNITDIR"]
        self.verify(os.path.join(unitdir, "chatd.service"),
                    os.path.join(unitdir, "chatd.socket"))

if __name__ == "__main__":
    unittest.main()
