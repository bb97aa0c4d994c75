# SPDX-License-Identifier: Apache-2.0
"""Every option a program's --help offers is in its man page, and every option a man page's
SYNOPSIS shows is one the program takes: cloudtimed and cloudtimed(8); cloudtime's and
cloudtime-vm's subcommands and their sections of cloudtime(1)."""
import os
import re
import subprocess
import unittest

import harness

MAN = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "man")


def read_man(page):
    with open(os.path.join(MAN, page + ".md")) as f:
        return f.read()


def help_options(*command):
    """The options of `command --help`, each as the set of its spellings ({"-c", "--config"})."""
    p = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, p.stderr
    options = []
    for line in p.stdout.splitlines():
        m = re.match(r"^\s+((?:-[A-Za-z0-9],)?--[a-z][a-z0-9-]*)", line)
        if m and m.group(1) != "-h,--help":
            options.append(set(m.group(1).split(",")))
    return options


def mentioned(text):
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", text))


def section(text, title):
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"no section {title}"
    return m.group(1)


def synopsis_lines(man, program, subcommand):
    lines = section(man, "SYNOPSIS").splitlines()
    pattern = rf"^`{re.escape(program)} (\[[^\]]*\] )*{re.escape(subcommand)}\b"
    return "\n".join(line for line in lines if re.match(pattern, line))


class HelpAndMan(harness.TestCase):
    def assert_documented(self, options, text, what):
        missing = [sorted(o) for o in options if not o & mentioned(text)]
        self.assertEqual(missing, [], f"{what}: in --help, not in the man page")

    def assert_offered(self, synopsis, options, what, hidden=()):
        offered = set().union(*options) | {"-h", "--help", "--version"} | set(hidden)
        invented = sorted(o for o in mentioned(synopsis) if o.startswith("-") and o not in offered)
        self.assertEqual(invented, [], f"{what}: in the SYNOPSIS, not in --help")

    def test_cloudtimed(self):
        man = read_man("cloudtimed.8")
        options = help_options(harness.CLOUDTIMED)
        self.assertGreaterEqual(len(options), 8)
        self.assert_documented(options, man, "cloudtimed")
        self.assert_offered(section(man, "SYNOPSIS"), options, "cloudtimed")

    def subcommands(self, program):
        p = subprocess.run([program, "--help"], capture_output=True, text=True, timeout=10)
        names = re.findall(r"^  ([a-z][a-z-]+)\s", p.stdout.split("Subcommands:", 1)[1], re.M)
        self.assertTrue(names, p.stdout)
        return names

    def test_cloudtime_and_cloudtime_vm(self):
        man = read_man("cloudtime.1")
        cloudtime_vm = os.path.join(os.path.dirname(harness.CLOUDTIME), "cloudtime-vm")
        programs = [harness.CLOUDTIME, cloudtime_vm]
        if harness.sanitized():  # cloudtime-vm is static: built by the release preset only
            self.assertFalse(os.path.exists(cloudtime_vm))
            programs.remove(cloudtime_vm)
        checked = 0
        for program in programs:
            name = os.path.basename(program)
            for sub in self.subcommands(program):
                text = section(man, sub)
                synopsis = synopsis_lines(man, "cloudtime", sub)
                self.assertTrue(synopsis, f"no SYNOPSIS line for {sub}")
                options = help_options(program, sub)
                if sub == "vendordata":  # its own subcommands, under one section
                    for inner in ("render", "config-drive", "dhcp"):
                        inner_options = help_options(program, sub, inner)
                        self.assert_documented(inner_options, text + synopsis,
                                               f"{name} {sub} {inner}")
                        options += inner_options
                self.assert_documented(options, text + synopsis, f"{name} {sub}")
                self.assert_offered(synopsis, options, f"{name} {sub}")
                checked += 1
        self.assertGreaterEqual(checked, 8 + 2 * (cloudtime_vm in programs))


class DocsQuoteTheUnit(unittest.TestCase):
    def test_every_directive_the_docs_quote_is_the_units(self):
        """A `Directive=value` the operator guide or cloudtimed(8) quotes, for a directive the
        packaged unit sets, is the unit's own line."""
        root = os.path.join(os.path.dirname(__file__), "..", "..")
        with open(os.path.join(root, "deploy", "systemd", "cloudtimed.service.in")) as f:
            unit = {}
            for line in f:
                if re.match(r"^[A-Z][A-Za-z]+=", line):
                    key, value = line.rstrip("\n").split("=", 1)
                    unit.setdefault(key, []).append(value)
        quoted = 0
        for doc in ("docs/operator-guide.md", "docs/man/cloudtimed.8.md"):
            with open(os.path.join(root, doc)) as f:
                text = f.read().replace("\n", " ")
            for key, value in re.findall(r"`([A-Z][A-Za-z]+)=([^`]*)`", text):
                if key in unit and value:
                    quoted += 1
                    self.assertIn(value, unit[key], f"{doc} quotes {key}={value}")
        self.assertGreaterEqual(quoted, 4)


if __name__ == "__main__":
    unittest.main()
