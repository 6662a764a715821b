#!/usr/bin/env python3
"""bkp@.service and bkp@.timer as `meson install` puts them, and the units the man pages
show, checked with systemd-analyze verify on a DESTDIR install (see systemd_verify)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import systemd_verify
import tap

ENV = os.environ
UNITDIR = ENV["UNITDIR"]          # absolute, as configured (PREFIX/lib/systemd/system by default)
BINDIR = ENV["BINDIR"]
MANDIR = ENV["MANDIR"]
SOURCE_ROOT = Path(ENV["SOURCE_ROOT"])

root = None  # the DESTDIR of one `meson install`, shared by the tests


def inside(path):
    return systemd_verify.inside(root, path)


def setUpModule():
    global root
    root = Path(tempfile.mkdtemp(prefix="bkp-units-"))
    unittest.addModuleCleanup(shutil.rmtree, root)  # also when the set-up fails
    systemd_verify.add_host_units(root)
    subprocess.run([ENV["MESON"], "install", "-C", ENV["BUILD_ROOT"], "--no-rebuild", "--quiet",
                    "--destdir", str(root)], check=True, stdout=subprocess.DEVNULL)


def verify(*units):
    return systemd_verify.verify(root, MANDIR, *units)


def settings(path):
    """The unit file's settings as {(section, key): [values]}, comments left out."""
    out, section = {}, None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault((section, key.strip()), []).append(value.strip())
    return out


def man_page_units(page):
    """The unit files a man page shows: .EX blocks whose first line is "# /etc/.../NAME"."""
    text = (SOURCE_ROOT / "man" / page).read_text()
    units = {}
    for block in re.findall(r"^\.EX\n(.*?)^\.EE\n", text, re.M | re.S):
        lines = [l.replace(r"\-", "-").replace(r"\e", "\\") for l in block.splitlines()]
        if lines and re.match(r"# /etc/systemd/system/\S+\.(mount|service|timer)$", lines[0]):
            units[lines[0][2:]] = "\n".join(lines[1:]) + "\n"
    return units


class InstalledUnits(unittest.TestCase):
    def setUp(self):
        self.service = inside(UNITDIR) / "bkp@.service"
        self.timer = inside(UNITDIR) / "bkp@.timer"

    def test_meson_install_puts_both_units_in_the_system_unit_directory(self):
        self.assertTrue(self.service.is_file(), self.service)
        self.assertTrue(self.timer.is_file(), self.timer)

    def test_service_and_timer_pass_systemd_analyze_verify(self):
        self.assertEqual(verify(self.service, self.timer), "")

    def test_verify_as_used_here_fails_on_a_broken_unit(self):
        broken = {
            "a misspelt key (only a warning)": ("IOSchedulingClass=", "IOSchedulingClas="),
            "ExecStart= a program the root lacks": ("/bkp run", "/bkp-missing run"),
            "an unknown Type=": ("Type=oneshot", "Type=oneshoot"),
        }
        good = self.service.read_text()
        for what, (old, new) in broken.items():
            with self.subTest(what):
                self.assertIn(old, good)
                unit = inside(UNITDIR) / "broken@.service"
                unit.write_text(good.replace(old, new))
                try:
                    self.assertNotEqual(verify(unit), "")
                finally:
                    unit.unlink()
        timer = inside(UNITDIR) / "broken@.timer"
        timer.write_text(self.timer.read_text().replace("OnCalendar=daily", "OnCalendar=dialy"))
        shutil.copy(self.service, inside(UNITDIR) / "broken@.service")
        try:
            self.assertNotEqual(verify(timer), "")
        finally:
            timer.unlink()
            (inside(UNITDIR) / "broken@.service").unlink()

    def test_service_runs_the_job_named_by_its_instance_once(self):
        s = settings(self.service)
        self.assertEqual(s[("Service", "Type")], ["oneshot"])
        self.assertEqual(s[("Service", "ExecStart")], [f"{BINDIR}/bkp run %i"])
        self.assertTrue(os.access(inside(BINDIR) / "bkp", os.X_OK))
        self.assertEqual(s[("Service", "TimeoutStartSec")], ["infinity"])

    def test_service_runs_at_low_cpu_and_io_priority(self):
        s = settings(self.service)
        self.assertEqual(s[("Service", "Nice")], ["19"])
        self.assertEqual(s[("Service", "CPUSchedulingPolicy")], ["batch"])
        self.assertEqual(s[("Service", "IOSchedulingClass")], ["idle"])

    def test_service_is_sandboxed_without_losing_what_a_backup_needs(self):
        s = settings(self.service)
        self.assertEqual(s[("Service", "ProtectSystem")], ["full"])
        self.assertEqual(s[("Service", "NoNewPrivileges")], ["yes"])
        self.assertEqual(s[("Service", "PrivateTmp")], ["yes"])
        # Each would keep a backup from reading or restoring something.
        for key in ["ProtectHome", "PrivateDevices", "ProtectClock", "DeviceAllow", "RestrictSUIDSGID",
                    "ProtectKernelModules", "CapabilityBoundingSet", "SystemCallFilter", "User",
                    "DynamicUser", "ReadOnlyPaths", "InaccessiblePaths"]:
            self.assertNotIn(("Service", key), s, key)
        # ssh to remote sources needs the network.
        self.assertIn("AF_INET", s[("Service", "RestrictAddressFamilies")][0].split())
        self.assertIn("network-online.target", s[("Unit", "Wants")][0].split())

    def test_timer_runs_daily_catches_up_and_spreads_the_start(self):
        s = settings(self.timer)
        self.assertEqual(s[("Timer", "OnCalendar")], ["daily"])
        self.assertEqual(s[("Timer", "Persistent")], ["true"])
        self.assertEqual(s[("Timer", "RandomizedDelaySec")], ["1h"])
        self.assertEqual(s[("Install", "WantedBy")], ["timers.target"])
        # No Unit=: bkp@NAME.timer starts bkp@NAME.service.
        self.assertNotIn(("Timer", "Unit"), s)


class ManPageUnits(unittest.TestCase):
    def test_man_pages_say_how_to_enable_the_timer(self):
        for page in ["bkp.1", "bkpfs.1"]:
            text = (SOURCE_ROOT / "man" / page).read_text().replace(r"\-", "-")
            with self.subTest(page):
                self.assertIn(".SH SYSTEMD", text)
                self.assertIn("bkp@.service", text)
                self.assertIn("bkp@.timer", text)
                self.assertRegex(text, r"systemctl enable --now bkp@\S+\.timer")

    def test_bkpfs_mount_and_service_examples_pass_systemd_analyze_verify(self):
        units = man_page_units("bkpfs.1")
        self.assertEqual(sorted(Path(u).suffix for u in units), [".mount", ".service"])
        # The examples name the packaged path; this build may have another prefix.
        packaged = inside("/usr/bin/bkpfs")
        if not packaged.exists():
            packaged.parent.mkdir(parents=True, exist_ok=True)
            # relative: verify resolves links inside the root
            packaged.symlink_to(os.path.relpath(inside(BINDIR) / "bkpfs", packaged.parent))
        for path, text in units.items():
            inside(path).parent.mkdir(parents=True, exist_ok=True)
            inside(path).write_text(text)
        self.assertEqual(verify(*(inside(p) for p in units)), "")

    def test_bkp_verify_timer_example_passes_systemd_analyze_verify(self):
        units = man_page_units("bkp.1")
        self.assertEqual(sorted(units), ["/etc/systemd/system/bkp-verify.service", "/etc/systemd/system/bkp-verify.timer"])
        self.assertIn("bkp verify -q -d /mnt/backup --subset", units["/etc/systemd/system/bkp-verify.service"])
        sh = inside("/bin/sh")  # the example's ExecStart; verify looks for it inside the root
        if not sh.exists():
            sh.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy("/bin/sh", sh)
        for path, text in units.items():
            inside(path).parent.mkdir(parents=True, exist_ok=True)
            inside(path).write_text(text)
        self.assertEqual(verify(*(inside(p) for p in units)), "")


if __name__ == "__main__":
    tap.main()
