#!/usr/bin/env python3
"""The Debian package: built from a copy of this tree with `dpkg-buildpackage -us -uc
-b`, checked with lintian, unpacked with `dpkg -x` into a temporary root, and its files
run from there (a backup with the packaged bkp, a mount with the packaged bkpfs, the
units verified, the completion completing).
Run by scripts/test-package (it takes minutes: it compiles everything again).
    test_package.py OUT [--quick]    OUT receives the tree, the build log and the .debs;
                                     --quick builds with the nocheck profile (no tests)"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import systemd_verify
import tap

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = HERE.parent.parent
OUT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else None
QUICK = "--quick" in sys.argv[2:]

debs = {}        # package name -> .deb
changes = None   # the .changes file
root = None      # where the bkp package is unpacked
version = None   # from debian/changelog


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def setUpModule():
    global changes, root, version
    shutil.rmtree(OUT, ignore_errors=True)
    tree = OUT / "src"
    tree.mkdir(parents=True)
    # The files git knows of or would add, as they are now (committed or not).
    files = run("git", "-C", str(SOURCE_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, files.split("\0")):
        if (SOURCE_ROOT / name).exists():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(SOURCE_ROOT / name, tree / name, follow_symlinks=False)
    version = run("dpkg-parsechangelog", "-l", str(tree / "debian/changelog"), "-S", "Version").strip()
    env = dict(os.environ)
    command = ["dpkg-buildpackage", "-us", "-uc", "-b"]
    if QUICK:
        env["DEB_BUILD_OPTIONS"] = (env.get("DEB_BUILD_OPTIONS", "") + " nocheck").strip()
        command.append("-Pnocheck")
    started = time.monotonic()
    with open(OUT / "build.log", "w") as log:
        built = subprocess.run(command, cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"# {' '.join(command)}: {time.monotonic() - started:.0f} s, exit {built.returncode}"
          f" (log: {OUT / 'build.log'})", flush=True)
    if built.returncode != 0:
        raise RuntimeError(f"dpkg-buildpackage failed; see {OUT / 'build.log'}")
    for deb in OUT.glob("*.deb"):
        debs[deb.name.split("_")[0]] = deb
    changes = next(OUT.glob("*.changes"))
    root = OUT / "root"
    systemd_verify.add_host_units(root)
    run("dpkg", "-x", str(debs["bkp"]), str(root))


def inside(path):
    return systemd_verify.inside(root, path)


def field(name):
    return run("dpkg-deb", "-f", str(debs["bkp"]), name).strip()


def unmount_if_mounted(path):
    if os.path.ismount(path):
        subprocess.run(["fusermount3", "-u", str(path)], check=True)


class Package(unittest.TestCase):
    def test_builds_a_bkp_deb_of_the_changelog_version(self):
        self.assertIn("bkp", debs)
        self.assertEqual(field("Version"), version)
        self.assertEqual(field("Architecture"), run("dpkg", "--print-architecture").strip())

    def test_lintian_reports_no_errors(self):
        check = subprocess.run(["lintian", "--info", "--display-info", "--pedantic", str(changes)],
                               capture_output=True, text=True)
        tags = [l for l in check.stdout.splitlines() if re.match(r"[EWIPX]: ", l)]
        (OUT / "lintian.txt").write_text(check.stdout)
        for tag in tags:
            print(f"# lintian: {tag}")
        print(f"# lintian: {len(tags)} tags, "
              + ", ".join(f"{sum(t.startswith(k) for t in tags)} {k}" for k in "EWIP"), flush=True)
        self.assertEqual([t for t in tags if t.startswith("E: ")], [])
        self.assertEqual(check.returncode, 0, check.stderr)

    def test_runtime_dependencies_are_declared(self):
        depends = [d.split()[0] for d in field("Depends").split(", ")]
        for package in ("rsync", "fuse3", "libfuse3-3", "libc6"):
            self.assertIn(package, depends)
        self.assertIn("openssh-client", field("Recommends"))

    def test_holds_both_programs_man_pages_units_and_completions(self):
        for path in ("/usr/bin/bkp", "/usr/bin/bkpfs"):
            self.assertTrue(os.access(inside(path), os.X_OK), path)
        for path in ("/usr/share/man/man1/bkp.1.gz", "/usr/share/man/man1/bkpfs.1.gz",
                     "/lib/systemd/system/bkp@.service", "/lib/systemd/system/bkp@.timer",
                     "/usr/share/bash-completion/completions/bkp", "/usr/share/doc/bkp/copyright"):
            self.assertTrue(inside(path).is_file(), path)
        completions = inside("/usr/share/bash-completion/completions")
        self.assertEqual(os.readlink(completions / "bkpfs"), "bkp")

    def test_programs_report_the_package_version(self):
        self.assertEqual(run(str(inside("/usr/bin/bkp")), "--version").strip(), f"bkp {version}")
        self.assertIn(version, run(str(inside("/usr/bin/bkpfs")), "--version"))

    def test_packaged_bkp_backs_up_and_packaged_bkpfs_mounts_the_snapshot(self):
        tmp = Path(tempfile.mkdtemp(prefix="bkp-package-"))
        self.addCleanup(shutil.rmtree, tmp)
        source, dest, mnt = tmp / "home", tmp / "backup", tmp / "history"
        source.mkdir()
        mnt.mkdir()
        (source / "thesis.tex").write_text("chapter one\n")
        run(str(inside("/usr/bin/bkp")), "-q", "-s", str(source), "-d", str(dest))
        self.assertIn("complete", run(str(inside("/usr/bin/bkp")), "list", "-d", str(dest)))
        run(str(inside("/usr/bin/bkpfs")), "mount", str(dest), str(mnt))  # returns once mounted
        self.addCleanup(unmount_if_mounted, mnt)
        self.assertEqual((mnt / "latest" / "home" / "thesis.tex").read_text(), "chapter one\n")
        run(str(inside("/usr/bin/bkpfs")), "umount", str(mnt))
        self.assertFalse(os.path.ismount(mnt))

    def test_packaged_units_pass_systemd_analyze_verify_and_run_the_packaged_bkp(self):
        service = inside("/lib/systemd/system/bkp@.service")
        self.assertIn("ExecStart=/usr/bin/bkp run %i\n", service.read_text())
        said = systemd_verify.verify(root, "/usr/share/man", service, inside("/lib/systemd/system/bkp@.timer"))
        self.assertEqual(said, "")

    def test_packaged_completion_completes(self):
        bkp = str(inside("/usr/bin/bkp"))
        requests = f"{bkp} l\x1f1\x1f{bkp}\x1fl\n"
        completion = inside("/usr/share/bash-completion/completions/bkpfs")
        offered = run("bash", str(HERE / "complete.bash"), str(completion), input=requests)
        self.assertEqual(offered, "list\n\x1e\n")


if __name__ == "__main__":
    if OUT is None:
        sys.exit(__doc__)
    tap.main()
