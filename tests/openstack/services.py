# SPDX-License-Identifier: Apache-2.0
"""Processes of the all-in-one cloud: started by hand (PID 1 here is not systemd), each with
its pid file, its log and an environment that marks it as the cloud's, so that teardown finds
every one of them (and what they started) on any exit path."""

import os
import signal
import subprocess
import time

MARK = "CLOUDTIME_OPENSTACK_STATE"


class Services:
    def __init__(self, state):
        self.state = state
        self.log_dir = os.path.join(state, "log")
        self.pid_dir = os.path.join(state, "pids")
        os.makedirs(self.log_dir, exist_ok=True)
        os.makedirs(self.pid_dir, exist_ok=True)
        self.procs = []  # kept, so that each is waited for (teardown stops them by pid)

    def environment(self, extra=None):
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "HOME": os.path.join(self.state, "home"),
            MARK: self.state,
            # Open vSwitch's tools find their sockets and databases here, not in /var/run
            "OVS_RUNDIR": os.path.join(self.state, "ovs"),
            "OVS_DBDIR": os.path.join(self.state, "ovs"),
            "OVS_LOGDIR": self.log_dir,
            "OVS_SYSCONFDIR": os.path.join(self.state, "ovs"),
        }
        os.makedirs(env["HOME"], exist_ok=True)
        env.update(extra or {})
        return env

    def run(self, name, cmd, extra_env=None, timeout=600, check=True, input=None, cwd=None):
        """Runs one command to its end, its output appended to log/NAME.log."""
        with open(os.path.join(self.log_dir, f"{name}.log"), "ab") as log:
            log.write(f"+ {' '.join(cmd)}\n".encode())
            log.flush()
            p = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, timeout=timeout,
                               env=self.environment(extra_env), input=input, cwd=cwd,
                               stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise RuntimeError(f"{name}: {' '.join(cmd)} exited {p.returncode}; see "
                               f"{self.log_dir}/{name}.log:\n{self.tail(name)}")
        return p.returncode

    def output(self, cmd, extra_env=None, timeout=120):
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True,
                              env=self.environment(extra_env)).stdout

    def start(self, name, cmd, extra_env=None, cwd=None):
        """Starts a long-running process in a session of its own."""
        log = open(os.path.join(self.log_dir, f"{name}.log"), "ab")
        log.write(f"+ {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=self.environment(extra_env),
                                cwd=cwd or self.state, start_new_session=True)
        log.close()
        self.procs.append(proc)
        with open(os.path.join(self.pid_dir, f"{name}.pid"), "w") as f:
            f.write(f"{proc.pid}\n")
        return proc

    def alive(self, name):
        try:
            with open(os.path.join(self.pid_dir, f"{name}.pid")) as f:
                pid = int(f.read())
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(") ")[1][0] != "Z"
        except (OSError, ValueError):
            return False

    def tail(self, name, lines=25):
        try:
            with open(os.path.join(self.log_dir, f"{name}.log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def wait_for(self, what, predicate, timeout, name=None, interval=0.5):
        """Waits until predicate() is true; fails naming what, with the log of `name`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if name and not self.alive(name):
                raise RuntimeError(f"{name} exited while waiting for {what}:\n{self.tail(name)}")
            try:
                if predicate():
                    return
            except Exception:  # noqa: BLE001 - not there yet; the deadline decides
                pass
            time.sleep(interval)
        raise RuntimeError(f"{what}: not within {timeout} s" +
                           (f"; {name}'s log:\n{self.tail(name)}" if name else ""))


def marked_processes(state):
    """Every process that is the cloud's: its environment carries the mark, or its command line
    names the state directory (qemu under libvirtd, haproxy under rootwrap: their environment
    is cleaned)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if f"{MARK}={state}".encode() in environ.split(b"\0") or state.encode() in cmdline:
            pids.append(int(entry))
    return pids


def recorded_groups(state):
    """The process groups of the processes started (each started a session of its own): a
    process that rewrote its command line and environment (uwsgi's workers) is still in one."""
    groups = set()
    pid_dir = os.path.join(state, "pids")
    for name in os.listdir(pid_dir) if os.path.isdir(pid_dir) else []:
        try:
            with open(os.path.join(pid_dir, name)) as f:
                groups.add(int(f.read()))
        except (OSError, ValueError):
            pass
    return groups


def zombie(pid):
    """Dead, waiting for its parent to reap it (the test's own children, until it does)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def cloud_processes(state, groups):
    pids = set(marked_processes(state))
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if os.getpgid(int(entry)) in groups:
                    pids.add(int(entry))
            except OSError:
                pass
    return sorted(pid for pid in pids if not zombie(pid))


def stop_all(state, grace=10.0):
    """SIGTERM to every process of the cloud, SIGKILL to what is left after `grace` s; returns
    the pids that were still there at the end (none, normally)."""
    groups = recorded_groups(state)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in cloud_processes(state, groups):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + (grace if sig == signal.SIGTERM else 2.0)
        while time.monotonic() < deadline and cloud_processes(state, groups):
            time.sleep(0.2)
    return cloud_processes(state, groups)
