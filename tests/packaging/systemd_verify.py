"""systemd-analyze verify on units installed into a directory tree (a DESTDIR or an
unpacked package), with no running systemd: verify --root loads the units, resolves
their dependencies against systemd's own units (copied into the tree), checks that
ExecStart= is an executable inside the tree and that Documentation= names an installed
man page. Any output counts as a failure: verify only warns, and exits 0, on an unknown
or misspelt key."""
import os
import shutil
import subprocess
from pathlib import Path

HOST_UNITS = Path("/lib/systemd/system")  # systemd's own units (Debian 12)


def inside(root, path):
    return Path(root) / str(path).lstrip("/")


def add_host_units(root):
    """Copies sysinit.target, network-online.target, timers.target... into ROOT; call
    it before installing into ROOT, so that the units under test replace any copy the
    host has."""
    shutil.copytree(HOST_UNITS, inside(root, HOST_UNITS), symlinks=True, dirs_exist_ok=True)


def verify(root, mandir, *units):
    """What systemd-analyze verify says about UNITS (paths inside ROOT): empty when they
    are fine, else its output and exit status."""
    run = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *map(str, units)],
                         env={**os.environ, "MANPATH": str(inside(root, mandir)), "SYSTEMD_PAGER": ""},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said = run.stdout.strip()
    if run.returncode != 0:
        said += f"\n(exit status {run.returncode})"
    return said
