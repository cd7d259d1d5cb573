#!/usr/bin/env python3
"""Writes bench/weft.order: the functions a start and the common pages run, in the order they
first ran, for the linker to place together at the front of `.text` (see build.rs).

    WEFT_LINK_MAP=/tmp/weft.map cargo build --release
    target/release/weft bench seed --data /tmp/bench1m && target/release/weft reindex --data /tmp/bench1m
    python3 bench/order.py --map /tmp/weft.map --data /tmp/bench1m

It runs the release binary under ptrace (Linux, x86_64) on a copy of the seeded data directory,
with a one-shot breakpoint at the first byte of every function section of the linker's map. Each
breakpoint records its function the first time any thread reaches it, then puts the original
byte back. First the server starts and serves the public timeline once (what the memory figure
in BENCHMARKS.md measures); then a logged-in user visits the pages the load harness measures,
posts, likes and searches. The file lists the first group, then the second, each in the order
of first run.

The names carry each crate's build hash, which changes with the compiler, any change to
Cargo.lock, the crate's version and the profile (a `--profile profiling` build is not
ordered); a name the build does not have is skipped, so a stale list only orders less.
`--check` says how many of the listed names a build's map has, and fails under 90%:

    WEFT_LINK_MAP=$PWD/target/weft.map cargo build --release
    python3 bench/order.py --check --map target/weft.map
"""

import argparse
import ctypes
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import struct
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

PTRACE_TRACEME, PTRACE_CONT = 0, 7
PTRACE_GETREGS, PTRACE_SETREGS, PTRACE_SETOPTIONS = 12, 13, 0x4200
PTRACE_O_TRACECLONE, PTRACE_O_EXITKILL = 0x8, 0x100000
PTRACE_EVENT_CLONE = 3
WALL = 0x40000000
RIP = 16  # index of rip in struct user_regs_struct

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


class Regs(ctypes.Structure):
    _fields_ = [("r", ctypes.c_ulonglong * 27)]


def ptrace(req, tid, addr=0, data=0):
    if libc.ptrace(req, tid, ctypes.c_void_p(addr), ctypes.c_void_p(data)) == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace({req}, {tid}): {os.strerror(err)}")


MAP_LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(\S.*)$")


def read_map(path):
    """The functions in `.text`: (address, size, name) for each function section
    (`.text.NAME`, one function each) of the lld map, named by the symbol at its start; and
    the address and size of `.text` itself. Plain `.text` sections (assembly, C runtime) are
    left out: they may begin with data."""
    funcs, out, section, text = [], None, None, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = MAP_LINE.match(line)
            if not m:
                continue
            vma, size, depth, what = int(m[1], 16), int(m[2], 16), len(m[3]), m[4]
            if depth == 0:
                out = what
                if what == ".text":
                    text = (vma, size)
            elif out != ".text":
                continue
            elif depth == 8:
                function = size > 0 and what.endswith(")") and ":(.text." in what
                section = [vma, size, None] if function else None
                if section:
                    funcs.append(section)
            elif depth == 16 and section and section[2] is None and vma == section[0]:
                section[2] = what
    return [tuple(f) for f in funcs if f[2]], text


def elf_text(path):
    """The address and size of `.text` in an ELF64 file (section headers survive stripping)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:5] != b"\x7fELF\x02":
            raise SystemExit(f"{path} is not a 64-bit ELF file")
        shoff, = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", head, 0x3A)
        f.seek(shoff)
        table = f.read(shentsize * shnum)
        sections = [struct.unpack_from("<IIQQQQ", table, i * shentsize) for i in range(shnum)]
        _, _, _, _, stroff, strsize = sections[shstrndx]
        f.seek(stroff)
        names = f.read(strsize)
    for name, _, _, addr, _, size in sections:
        if names[name:names.index(b"\0", name)] == b".text":
            return addr, size
    raise SystemExit(f"{path} has no .text section")


def base_of(pid, exe):
    real = os.path.realpath(exe)
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == real and int(parts[2], 16) == 0:
                return int(parts[0].split("-")[0], 16)
    raise SystemExit(f"{real} is not mapped in process {pid}")


class Driver(threading.Thread):
    """Makes the requests while the main thread traces; `phase` says which group a first run
    belongs to."""

    def __init__(self, base, data):
        super().__init__(daemon=True)
        self.base, self.data = base, data
        self.phase, self.done, self.error = 0, False, None

    def get(self, opener, path, data=None, headers=None):
        req = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        with opener.open(req, timeout=60) as r:
            return r.read().decode("utf-8", "replace")

    def run(self):
        try:
            self.steps()
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.done = True

    def steps(self):
        plain = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.time() + 120
        while True:
            try:
                self.get(plain, "/public")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.01)
        time.sleep(1.0)  # what a freshly started server does on its own, then one page
        self.phase = 1

        db = sqlite3.connect(f"file:{self.data}/weft.sqlite3?mode=ro", uri=True)
        user = db.execute(
            "SELECT username FROM accounts WHERE status = 0 AND following_count > 50 LIMIT 1"
        ).fetchone()[0]
        other, post = db.execute(
            """SELECT a.username, p.id FROM posts p JOIN accounts a ON a.id = p.author_id
               WHERE p.visibility = 0 AND p.repost_of_id IS NULL AND p.deleted_at IS NULL
                 AND p.reply_count > 0 LIMIT 1"""
        ).fetchone()
        db.close()
        jar = http.cookiejar.CookieJar()
        me = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
        for page in ("/login", "/static/style.css", "/static/weft.js", "/static/htmx.min.js",
                     f"/@{other}", f"/@{other}/{post}", "/tags/weft", "/search?q=the"):
            self.get(me, page)
        self.get(me, next_page(self.get(me, "/public")))
        token = csrf(self.get(me, "/login"))
        form = {"username": user, "password": "weft-bench-password", "csrf": token}
        self.get(me, "/login", urllib.parse.urlencode(form).encode())
        home = self.get(me, "/")
        time.sleep(1.0)  # the bounded home feed is built in the background on a first visit
        token = csrf(home)
        for page in ("/", f"/@{other}", f"/@{other}/{post}", "/notifications", "/compose",
                     "/search?q=good+day", f"/search?q=from:{other}", "/explore", "/settings",
                     "/bookmarks", f"/@{user}"):
            self.get(me, page)
        send = {"X-CSRF-Token": token}
        self.get(me, "/posts", b"body=hello+%23weft+from+the+order+run&visibility=public", send)
        self.get(me, f"/posts/{post}/like", b"on=1", send)
        self.get(me, f"/posts/{post}/bookmark", b"on=1", send)
        self.get(me, f"/posts/{post}/repost", b"on=1", send)
        self.get(me, "/posts", urllib.parse.urlencode(
            {"body": "a reply", "visibility": "public", "in_reply_to": str(post)}).encode(), send)
        for page in (f"/@{user}", "/notifications"):
            self.get(me, page)
        self.get(me, next_page(self.get(me, "/")))
        time.sleep(2.0)  # the jobs the posts queued (fan-out, search indexing)


def next_page(page):
    """The feed's link to its next page (`?before=…`)."""
    m = re.search(r'href="(/[^"?]*\?before=[0-9]+)"', page)
    if not m:
        raise RuntimeError("no next-page link on the feed")
    return m[1]


def csrf(page):
    m = re.search(r'name="csrf" value="([^"]*)"', page)
    if not m:
        raise RuntimeError("no CSRF token on the page")
    return m[1]


def trace(exe, funcs, data, port):
    pid = os.fork()
    if pid == 0:
        libc.ptrace(PTRACE_TRACEME, 0, None, None)
        env = dict(os.environ, WEFT_LOG="error")
        os.execve(exe, [exe, "serve", "--data", data, "--bind", f"127.0.0.1:{port}"], env)
    _, status = os.waitpid(pid, 0)
    if not os.WIFSTOPPED(status):
        raise SystemExit("the server did not stop at exec")
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)
    base = base_of(pid, exe)
    mem = os.open(f"/proc/{pid}/mem", os.O_RDWR)
    lo = min(a for a, _, _ in funcs)
    hi = max(a + s for a, s, _ in funcs)
    text = bytearray(os.pread(mem, hi - lo, base + lo))
    original, names = {}, {}
    for addr, _, name in funcs:
        original[base + addr] = text[addr - lo]
        names[base + addr] = name
        text[addr - lo] = 0xCC
    os.pwrite(mem, bytes(text), base + lo)
    print(f"{len(funcs)} breakpoints set; starting", file=sys.stderr)

    driver = Driver(f"http://127.0.0.1:{port}", data)
    driver.start()
    hits, seen = [], set()
    regs = Regs()
    ended = None
    ptrace(PTRACE_CONT, pid)
    while not driver.done:
        tid, status = os.waitpid(-1, WALL | os.WNOHANG)
        if tid == 0:
            time.sleep(0.0005)
            continue
        if tid == pid and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
            ended = status
            break
        if not os.WIFSTOPPED(status):
            continue
        sig = os.WSTOPSIG(status)
        deliver = 0
        if sig == signal.SIGTRAP and status >> 16 == PTRACE_EVENT_CLONE:
            pass
        elif sig == signal.SIGTRAP:
            ptrace(PTRACE_GETREGS, tid, 0, ctypes.addressof(regs))
            at = regs.r[RIP] - 1
            if at in original:
                if at not in seen:
                    seen.add(at)
                    hits.append((driver.phase, names[at]))
                    os.pwrite(mem, bytes([original[at]]), at)
                regs.r[RIP] = at
                ptrace(PTRACE_SETREGS, tid, 0, ctypes.addressof(regs))
            else:
                deliver = sig
        elif sig != signal.SIGSTOP:
            deliver = sig
        try:
            ptrace(PTRACE_CONT, tid, 0, deliver)
        except OSError:
            pass  # the thread is gone
    if ended is None:
        os.kill(pid, signal.SIGKILL)
        driver.join(5)
    else:
        how = (f"exited with {os.WEXITSTATUS(ended)}" if os.WIFEXITED(ended)
               else f"was killed by signal {os.WTERMSIG(ended)}")
        raise SystemExit(f"the server {how} during the run")
    if driver.error:
        raise SystemExit(f"the requests failed: {driver.error!r}")
    return hits


def check(order, funcs):
    have = {name for _, _, name in funcs}
    listed = [line.strip() for line in open(order) if line.strip()]
    found = sum(name in have for name in listed)
    print(f"{found} of the {len(listed)} functions {order} lists are in this build")
    if not listed or found < 0.9 * len(listed):
        raise SystemExit(
            f"{order} no longer matches this build (a compiler, Cargo.lock or version change): "
            "regenerate it as bench/order.py's header says"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="target/release/weft")
    ap.add_argument("--map", required=True, help="the map WEFT_LINK_MAP made for --bin")
    ap.add_argument("--data", help="a seeded data directory (it is copied)")
    ap.add_argument("--out", default="bench/weft.order")
    ap.add_argument("--check", action="store_true",
                    help="only say how much of --out the map's build has")
    args = ap.parse_args()
    funcs, text = read_map(args.map)
    if not funcs or not text:
        raise SystemExit(f"no functions in {args.map}")
    if args.check:
        return check(args.out, funcs)
    if not args.data:
        raise SystemExit("--data: a seeded data directory is needed (BENCHMARKS.md)")
    if elf_text(args.bin) != text:
        raise SystemExit(f"{args.map} is not the map of {args.bin}: relink with WEFT_LINK_MAP")
    with tempfile.TemporaryDirectory(prefix="weft-order-") as tmp:
        data = os.path.join(tmp, "data")
        print(f"copying {args.data}", file=sys.stderr)
        shutil.copytree(args.data, data)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        hits = trace(os.path.abspath(args.bin), funcs, data, port)
    size = {name: s for _, s, name in funcs}
    with open(args.out, "w") as f:
        for _, name in hits:  # in first-run order, so the first phase comes first
            f.write(name + "\n")
    for phase, label in ((0, "start and one page"), (1, "the common pages")):
        ran = [n for p, n in hits if p == phase]
        print(f"{label}: {len(ran)} functions, {sum(size[n] for n in ran) / 1024:.0f} KB",
              file=sys.stderr)
    print(f"of {len(funcs)} functions, {sum(size.values()) / 1048576:.1f} MB; "
          f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
