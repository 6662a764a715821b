#!/usr/bin/env python3
"""The bash completion for bkp and bkpfs as `meson install` puts it, driven in a real
bash (with bash-completion loaded) through COMP_WORDS/COMP_CWORD, against the built
programs' --help and, for the commands bkp is still growing, against fake-bkp, which
prints --help in the layout bkp will have (a "Commands:" section, keep rules, jobs)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import tap

ENV = os.environ
BKP = ENV["BKP"]
BKPFS = ENV.get("BKPFS")
FAKE_BKP = str(Path(__file__).resolve().parent / "fake-bkp")
DRIVER = str(Path(__file__).resolve().parent / "complete.bash")
COMPLETIONDIR = ENV["COMPLETIONDIR"]

destdir = None  # one `meson install --destdir`, shared by the tests


def setUpModule():
    global destdir
    destdir = Path(tempfile.mkdtemp(prefix="bkp-completion-"))
    unittest.addModuleCleanup(shutil.rmtree, destdir)  # also when the set-up fails
    subprocess.run([ENV["MESON"], "install", "-C", ENV["BUILD_ROOT"], "--no-rebuild", "--quiet",
                    "--destdir", str(destdir)], check=True, stdout=subprocess.DEVNULL)


def installed(name):
    return destdir / COMPLETIONDIR.lstrip("/") / name


def comp_words(line):
    """COMP_WORDS and COMP_CWORD as bash makes them for LINE with the cursor at its end:
    words split at blanks, and '=' and ':' (in COMP_WORDBREAKS) words of their own."""
    words = re.findall(r"[=:]|[^\s=:]+", line)
    if not words or line[-1].isspace():
        words.append("")
    return words, len(words) - 1


def complete(*lines, name="bkp", env=None):
    """What the completion offers for each LINE, in one bash (so its cache lasts), as
    sorted lists."""
    requests = ""
    for line in lines:
        words, cword = comp_words(line)
        requests += "\x1f".join([line, str(cword), *words]) + "\n"
    run = subprocess.run(["bash", DRIVER, str(installed(name))], input=requests, text=True,
                         capture_output=True, env={**ENV, **(env or {})}, check=True)
    assert run.stderr == "", run.stderr
    answers = run.stdout.split("\x1e\n")
    assert answers[-1] == "" and len(answers) == len(lines) + 1, run.stdout
    return [sorted(a.splitlines()) for a in answers[:-1]]


def offers(line, **kw):
    return complete(line, **kw)[0]


def help_text(program, *command):
    return subprocess.run([program, *command, "--help"], capture_output=True, text=True,
                          env={**ENV, "LC_ALL": "C"}).stdout


def options_in_help(text):
    """Every option name in an option table: lines "  -d [ --destination ] arg  ..." or
    "  -f, --foreground  ..." (the names come first; wrapped descriptions are indented
    deeper)."""
    names = []
    for line in text.splitlines():
        if not re.match(r" {1,4}-", line):
            continue
        for token in line.split():
            token = token.rstrip(",")
            if token in ("[", "]"):
                continue
            if not re.fullmatch(r"--?[A-Za-z0-9][\w-]*", token):
                break
            names.append(token)
    return sorted(set(names))


def commands_in_help(text, name):
    """The commands of a --help: its "Commands:" section and its usage lines."""
    found, section = set(), False
    for line in text.splitlines():
        if line.startswith("Commands:"):
            section = True
            continue
        m = re.match(r" {1,4}([a-z][a-z0-9-]*)( |$)", line)
        if section and m:
            found.add(m.group(1))
            continue
        if section and line.startswith(" "):
            continue
        section = False
        m = re.match(rf"(Usage:)? *{name} +([a-z][a-z0-9-]*)( |$)", line)
        if m:
            found.add(m.group(2))
    return sorted(found)


def unmount_if_mounted(path):
    if os.path.ismount(path):
        subprocess.run(["fusermount3", "-u", str(path)], check=True)


class Tree(unittest.TestCase):
    """A temporary directory with directories dest1/, dest2/ and a file destfile."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bkp-completion-"))
        self.addCleanup(shutil.rmtree, self.tmp)
        for d in ("dest1", "dest2"):
            (self.tmp / d).mkdir()
        (self.tmp / "destfile").write_text("x")
        self.dirs = [f"{self.tmp}/dest1", f"{self.tmp}/dest2"]
        self.all = self.dirs + [f"{self.tmp}/destfile"]


class Installed(unittest.TestCase):
    def test_meson_install_puts_one_completion_under_both_names(self):
        bkp, bkpfs = installed("bkp"), installed("bkpfs")
        self.assertTrue(bkp.is_file(), bkp)
        self.assertEqual(bkpfs.resolve(), bkp.resolve())
        self.assertIn("complete -F _bkp bkp", bkp.read_text())
        self.assertIn("complete -F _bkpfs bkpfs", bkp.read_text())


class InStepWithHelp(unittest.TestCase):
    def test_bkp_offers_every_command_its_help_lists(self):
        expected = commands_in_help(help_text(BKP), "bkp")
        self.assertIn("list", expected)
        self.assertEqual(offers(f"{BKP} "), expected)

    def test_bkp_offers_every_option_of_its_help(self):
        self.assertEqual(offers(f"{BKP} -"), options_in_help(help_text(BKP)))

    def test_every_bkp_command_offers_every_option_of_its_help(self):
        for command in commands_in_help(help_text(BKP), "bkp"):
            with self.subTest(command):
                expected = options_in_help(help_text(BKP, command))
                self.assertIn("--help", expected)
                self.assertEqual(offers(f"{BKP} {command} -"), expected)

    @unittest.skipUnless(BKPFS, "bkpfs is not built")
    def test_bkpfs_offers_its_commands_and_every_option_of_its_help(self):
        text = help_text(BKPFS)
        self.assertEqual(offers(f"{BKPFS} ", name="bkpfs"), commands_in_help(text, "bkpfs"))
        self.assertEqual(offers(f"{BKPFS} -", name="bkpfs"), options_in_help(text))
        self.assertEqual(offers(f"{BKPFS} mount /srv/backup /mnt -", name="bkpfs"), options_in_help(text))

    def test_the_layout_bkp_grows_into_is_read(self):
        self.assertEqual(offers(f"{FAKE_BKP} "), ["list", "pin", "prune", "run", "status"])
        self.assertEqual(offers(f"{FAKE_BKP} p"), ["pin", "prune"])
        for command in ("", "prune", "run"):
            with self.subTest(command or "top level"):
                text = help_text(FAKE_BKP, *([command] if command else []))
                self.assertEqual(offers(f"{FAKE_BKP} {command} -".replace("  ", " ")), options_in_help(text))

    def test_keep_rules_are_offered(self):
        self.assertEqual(offers(f"{FAKE_BKP} prune --keep-"),
                         ["--keep-daily", "--keep-hourly", "--keep-last", "--keep-monthly", "--keep-weekly",
                          "--keep-within", "--keep-yearly"])
        self.assertEqual(offers(f"{FAKE_BKP} --keep"), ["--keep-last"])

    def test_help_is_read_once_per_shell_and_command(self):
        with tempfile.NamedTemporaryFile("r") as log:
            complete(f"{FAKE_BKP} pr", f"{FAKE_BKP} prune -", f"{FAKE_BKP} prune --keep-", f"{FAKE_BKP} -",
                     env={"FAKE_BKP_LOG": log.name})
            self.assertEqual(sorted(log.read().splitlines()), ["--help", "prune --help"])


class Values(Tree):
    def test_destination_and_sources_complete_directories_only(self):
        t = self.tmp
        for line in (f"{BKP} -d {t}/dest", f"{BKP} --destination {t}/dest", f"{BKP} --destination={t}/dest",
                     f"{BKP} -s {t}/dest", f"{BKP} -s /etc {t}/dest", f"{BKP} -s /etc /var -i -s {t}/dest",
                     f"{BKP} list -d {t}/dest", f"{FAKE_BKP} prune -d {t}/dest"):
            with self.subTest(line):
                self.assertEqual(offers(line), self.dirs)

    def test_the_word_after_sources_and_another_option_is_an_option(self):
        self.assertEqual(offers(f"{BKP} -s /etc -d /mnt -"), options_in_help(help_text(BKP)))

    def test_file_options_complete_files(self):
        t = self.tmp
        for line in (f"{BKP} --log-file {t}/dest", f"{BKP} --config {t}/dest", f"{BKP} --exclude-from {t}/dest",
                     f"{BKP} list --log-file={t}/dest", f"{FAKE_BKP} --metrics-file {t}/dest"):
            with self.subTest(line):
                self.assertEqual(offers(line), self.all)

    def test_numbers_and_patterns_get_nothing(self):
        for line in (f"{FAKE_BKP} prune --keep-last ", f"{FAKE_BKP} prune --keep-within=",
                     f"{FAKE_BKP} run --parallel ", f"{BKP} --exclude "):
            with self.subTest(line):
                self.assertEqual(offers(line), [])

    def test_hooks_complete_commands(self):
        self.assertIn("sh", offers(f"{FAKE_BKP} --pre-exec s"))


class Jobs(Tree):
    def setUp(self):
        super().setUp()
        self.jobs = self.tmp / "jobs"
        self.jobs.mkdir()
        for name in ("home", "etc", "laptop-ann"):
            (self.jobs / f"{name}.conf").write_text("")
        (self.jobs / "README").write_text("")
        (self.jobs / "old.conf.bak").write_text("")
        (self.jobs / "dir.conf").mkdir()

    def test_run_offers_the_job_files_of_the_jobs_directory(self):
        j = self.jobs
        for line in (f"{FAKE_BKP} run --jobs {j} ", f"{FAKE_BKP} run --jobs={j} ", f"{FAKE_BKP} run --json --jobs {j} "):
            with self.subTest(line):
                self.assertEqual(offers(line), ["etc", "home", "laptop-ann"])
        self.assertEqual(offers(f"{FAKE_BKP} run --jobs {j} h"), ["home"])

    def test_run_without_jobs_option_reads_the_default_directory_run_help_shows(self):
        self.assertEqual(offers(f"{FAKE_BKP} run ", env={"FAKE_BKP_JOBS": str(self.jobs)}),
                         ["etc", "home", "laptop-ann"])

    def test_run_leaves_out_jobs_already_named(self):
        self.assertEqual(offers(f"{FAKE_BKP} run --jobs {self.jobs} home "), ["etc", "laptop-ann"])

    def test_jobs_option_completes_directories(self):
        self.assertEqual(offers(f"{FAKE_BKP} run --jobs {self.tmp}/dest"), self.dirs)


@unittest.skipUnless(BKPFS, "bkpfs is not built")
class Bkpfs(Tree):
    def test_mount_completes_directories_then_options(self):
        t = self.tmp
        self.assertEqual(offers(f"{BKPFS} mount {t}/dest", name="bkpfs"), self.dirs)
        self.assertEqual(offers(f"{BKPFS} mount /srv/backup {t}/dest", name="bkpfs"), self.dirs)
        self.assertEqual(offers(f"{BKPFS} -f mount {t}/dest", name="bkpfs"), self.dirs)
        self.assertEqual(offers(f"{BKPFS} -o ro mount /srv/backup {t}/dest", name="bkpfs"), self.dirs)
        # The form mount.fuse3 runs: bkpfs DEST MOUNTPOINT.
        self.assertEqual(offers(f"{BKPFS} {t}/dest", name="bkpfs"), self.dirs)
        self.assertEqual(offers(f"{BKPFS} /srv/backup {t}/dest", name="bkpfs"), self.dirs)
        self.assertIn("--foreground", offers(f"{BKPFS} mount /srv/backup /mnt ", name="bkpfs"))

    def test_mount_options_complete_after_the_last_comma(self):
        self.assertIn("allow_other", offers(f"{BKPFS} mount a b -o ", name="bkpfs"))
        self.assertEqual(offers(f"{BKPFS} mount a b -o allow_other,auto", name="bkpfs"),
                         ["allow_other,auto_unmount"])

    def test_umount_offers_the_mounted_bkpfs_mount_points(self):
        source, dest, mnt = self.tmp / "src", self.tmp / "backup", self.tmp / "history of ann"
        source.mkdir()
        (source / "file").write_text("x")
        mnt.mkdir()
        subprocess.run([BKP, "-q", "-s", str(source), "-d", str(dest)], check=True)
        subprocess.run([BKPFS, "mount", str(dest), str(mnt)], check=True)  # returns once mounted
        self.addCleanup(unmount_if_mounted, mnt)
        self.assertTrue(os.path.ismount(mnt))
        # Other filesystems (/, /proc...) are not offered; other bkpfs mounts may be.
        everything = offers(f"{BKPFS} umount ", name="bkpfs")
        self.assertIn(str(mnt), everything)
        self.assertNotIn("/", everything)
        self.assertNotIn("/proc", everything)
        self.assertEqual(offers(f"{BKPFS} umount {self.tmp}/hist", name="bkpfs"), [str(mnt)])
        self.assertEqual(offers(f"{BKPFS} umount /nowhere", name="bkpfs"), [])


if __name__ == "__main__":
    tap.main()
