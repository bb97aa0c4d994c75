# SPDX-License-Identifier: Apache-2.0
"""scripts/kernel_calls.py, the lint rule that keeps the kernel inside its rooms (src/sys, src/net,
src/tls, src/http): a planted raw system call or kernel header elsewhere fails it with FILE:LINE; qualified and member
calls, declarations, comments and strings do not; the repository itself is clean."""

import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kernel_calls.py"


def lint(*files, cwd=ROOT):
    return subprocess.run(["/usr/bin/python3", str(SCRIPT), *map(str, files)], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


class KernelCalls(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def plant(self, name, text):
        path = self.root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path.relative_to(self.root)

    def test_planted_raw_calls_fail_with_file_and_line(self):
        planted = self.plant("serve/planted.cpp", "\n".join([
            "#include <unistd.h>",
            "#include <sys/epoll.h>",
            "void f(int fd) {",
            "    ::close(fd);",
            "    if (geteuid() != 0) { return; }",
            "    const int e = ::epoll_create1(0);",
            "}",
        ]) + "\n")
        result = lint(planted, cwd=self.root)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        for line, what in [(1, "includes <unistd.h>"), (2, "includes <sys/epoll.h>"),
                           (4, "calls close()"), (5, "calls geteuid()"),
                           (6, "calls epoll_create1()")]:
            self.assertIn(f"src/serve/planted.cpp:{line}: {what}", result.stdout)
        self.assertIn("5 outside src/sys, src/net, src/tls, src/http", result.stderr)

    def test_wrapped_calls_comments_and_strings_pass(self):
        clean = self.plant("check/clean.cpp", "\n".join([
            "#include <sys/types.h>",
            "#include \"sys/paths.hpp\"",
            "// ::close(fd) is what sys::UniqueFd does",
            "Status bind(const Options& o);",
            "static Expected<std::unique_ptr<Server>> bind(const Options& o);",
            "void g(Batch& b, Socket* s) {",
            "    b.read(); s->close(); sys::read_text_file(\"x\");",
            "    const char* text = \"call ::write( here\";",
            "}",
        ]) + "\n")
        result = lint(clean, cwd=self.root)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_the_kernel_rooms_may_call_the_kernel_and_no_other(self):
        for room in ("sys", "net", "tls", "http"):
            inside = self.plant(f"{room}/inside.cpp",
                                "#include <unistd.h>\nvoid f() { ::close(3); }\n")
            self.assertEqual(lint(inside, cwd=self.root).returncode, 0, room)
        # A room whose name only begins like one of them is not one of them.
        beside = self.plant("system/inside.cpp", "void f() { ::close(3); }\n")
        self.assertEqual(lint(beside, cwd=self.root).returncode, 1)

    def test_repository_is_clean(self):
        result = lint()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
