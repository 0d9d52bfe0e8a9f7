#!/usr/bin/env python3
"""`make bench`: HandsOn's own cost against the plain commands and the limit, each pair measured in the same run,
in alternating rounds from the same cache state. Prints one table of medians, spreads and ratios; exits 1 when a
goal is missed. Needs a running engine and the lab's images (`make setup lab`); not part of `make test`.

    bench/bench.py [--rounds N] [--only grade,readiness,batch,hosts,shards,parser,startup,size,memory,diskwatch]
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, HANDSON_HOME=ROOT, NO_COLOR="1")
HANDSON = ""  # set in main: the release build


class Row:
    """One comparison: our timings, theirs, and the goal on ours/theirs (None: reported only)."""

    def __init__(self, name, ours_label, ours, theirs_label, theirs, goal=None, unit="s", note=""):
        self.name, self.ours_label, self.ours, self.theirs_label, self.theirs = name, ours_label, ours, theirs_label, theirs
        self.goal, self.unit, self.note = goal, unit, note

    @property
    def ratio(self):
        return statistics.median(self.ours) / statistics.median(self.theirs)

    @property
    def met(self):
        return self.goal is None or self.ratio <= self.goal


def spread(values, unit):
    m = statistics.median(values)
    if unit == "MB":
        return f"{m:.1f} MB"
    if unit == "share":
        return f"{m:.3f} ({min(values):.3f}-{max(values):.3f})"
    return f"{m:.3f} s ({min(values):.3f}-{max(values):.3f})"


def run(args, check=True, **kw):
    result = subprocess.run(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if check and result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args)} failed ({result.returncode}): {result.stderr[-800:]}")
    return result


def timed(args, check=True):
    start = time.perf_counter()
    result = run(args, check=check)
    return time.perf_counter() - start, result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alternate(rounds, first, second):
    """Runs first and second in alternating order each round; returns both lists of seconds."""
    a, b = [], []
    for i in range(rounds):
        for which in ((first, a), (second, b)) if i % 2 == 0 else ((second, b), (first, a)):
            which[1].append(which[0]())
    return a, b


def make_class(folder, *options):
    run(["bash", f"{ROOT}/scripts/make-sample-class.sh", folder, *options])


# 1. Grading overhead ---------------------------------------------------------------------------------------------
def bench_grade(rounds, work):
    answer = f"{work}/answer"
    shutil.copytree(f"{ROOT}/apps", answer)
    with open(f"{answer}/Dockerfile", "w") as f:
        f.write('FROM busybox\nRUN mkdir /www && echo \'{"status":"Healthy"}\' > /www/health\n'
                'CMD ["httpd", "-f", "-p", "9090", "-h", "/www"]\n')

    def ours():
        seconds, result = timed([HANDSON, "grade", "--chapter", "optimize-image", answer, "--json"])
        score = json.loads(result.stdout)["score"]
        if score != 100:
            raise SystemExit(f"bench: the answer scored {score}: {result.stdout[-600:]}")
        return seconds

    def plain():
        seconds, result = timed(["bash", f"{ROOT}/bench/reference/grade.sh", answer, str(free_port())])
        return seconds

    ours(), plain()  # warm both
    a, b = alternate(rounds, ours, plain)
    return [Row("grading overhead", "handson grade", a, "shell script", b, goal=1.05)]


# 2. Readiness ----------------------------------------------------------------------------------------------------
CONTAINERD_HOST = os.environ.get("HANDSON_CONTAINERD_HOST", "unix:///run/handson-containerd-store/docker.sock")
ENGINES = {  # name: (CLI, environment additions)
    "docker overlay2": ("docker", {}),
    "docker containerd store": ("docker", {"DOCKER_HOST": CONTAINERD_HOST}),
    "podman": ("podman", {}),
}


def raw_poll(url, every=0.005, deadline=60):
    """The floor: a plain HTTP GET every 5 ms from this process, until a healthy answer. Returns the moment it came."""
    host, port_path = url.split("//", 1)[1].split(":", 1)
    port, path = port_path.split("/", 1)
    end = time.perf_counter() + deadline
    while time.perf_counter() < end:
        try:
            with socket.create_connection((host, int(port)), timeout=1) as conn:
                conn.sendall(f"GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
                if b" 200 " in data.split(b"\r\n", 1)[0] and b"Healthy" in data:
                    return time.perf_counter()
        except OSError:
            pass
        time.sleep(every)
    raise SystemExit(f"bench: {url} never answered healthy")


def bench_readiness(rounds, work):
    """On each engine: a freshly started app, watched at once by `handson probe` and by the raw 5 ms poll; how much
    later than the poll HandsOn sees it healthy (the engine holds early connections about 1 s, for both)."""
    rows = []
    for engine, (cli, extra) in ENGINES.items():
        env = dict(ENV, **extra)
        image = "handson-bench/app:scratch"
        result = subprocess.run([cli, "build", "-q", "-t", image, "-f", f"{ROOT}/Chapters/optimize-image/solutions/scratch.Dockerfile",
                                 f"{ROOT}/apps"], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"bench: cannot build the app on {engine}: {result.stderr[-400:]}")
        lags, floors = [], []
        try:
            for _ in range(rounds):
                port = free_port()
                name = f"handson-bench-ready-{port}"
                subprocess.run([cli, "create", "--name", name, "-p", f"127.0.0.1:{port}:9090", image], env=env, capture_output=True, check=True)
                try:
                    url = f"http://127.0.0.1:{port}/health"
                    seen = {}
                    poller = threading.Thread(target=lambda: seen.__setitem__("raw", raw_poll(url)))
                    probe = subprocess.Popen([HANDSON, "probe", url, "--deadline", "30"], env=env, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True)
                    poller.start()
                    t0 = time.perf_counter()
                    subprocess.run([cli, "start", name], env=env, capture_output=True)
                    out, err = probe.communicate(timeout=60)
                    ours = time.perf_counter()
                    poller.join(timeout=60)
                    if probe.returncode != 0 or "raw" not in seen:
                        raise SystemExit(f"bench: {engine}: probe exit {probe.returncode}: {out[-200:]} {err[-200:]}")
                    # The probe's exit follows its healthy answer by the process's own end, a few ms: counted against us.
                    lags.append(max(ours - seen["raw"], 0.0))
                    floors.append(seen["raw"] - t0)
                finally:
                    subprocess.run([cli, "rm", "-f", name], env=env, capture_output=True)
        finally:
            subprocess.run([cli, "image", "rm", "-f", image], env=env, capture_output=True)
        rows.append(Row(f"readiness on {engine}", "probe after raw poll", lags, "50 ms allowed", [0.05], goal=1.0,
                        note=f"the raw 5 ms poll saw it healthy {statistics.median(floors):.3f} s after the start request"))
    return rows


# 3. Batch scaling ------------------------------------------------------------------------------------------------
def bench_batch(rounds, work):
    folder = f"{work}/class8"
    make_class(folder, "--only", "as-given,debian-slim,distroless-base,scratch", "--copies", "2")
    scores = {}

    def batch(jobs):
        def go():
            out = f"{work}/report-jobs{jobs}"
            seconds, _ = timed([HANDSON, "batch", "--chapter", "ictsc-diet", folder, "--out", out, "--jobs", str(jobs), "--regrade"])
            with open(f"{out}/results.json") as f:
                scores[jobs] = {g["submission"]: g["score"] for g in json.load(f)}
            return seconds
        return go

    loop = lambda: timed(["bash", f"{ROOT}/bench/reference/grade-loop.sh", HANDSON, folder])[0]
    one, two, plain = [], [], []
    for i in range(rounds):
        order = [(batch(1), one), (batch(2), two), (loop, plain)]
        for go, into in (order if i % 2 == 0 else list(reversed(order))):
            into.append(go())
    if scores.get(1) != scores.get(2):
        raise SystemExit(f"bench: --jobs 1 and --jobs 2 scored differently: {scores}")
    return [Row("batch of 8, 1 job", "batch --jobs 1", one, "shell loop of grade", plain, goal=1.05),
            Row("batch of 8, 2 jobs", "batch --jobs 2", two, "batch --jobs 1", one, goal=1.0)]


# 3b. Several engines ---------------------------------------------------------------------------------------------
def daemon_processes(pidfile):
    """A dockerd (from its pidfile) and the containerd it runs."""
    with open(pidfile) as f:
        pid = int(f.read().strip())
    children = run(["pgrep", "-P", str(pid)], check=False).stdout.split()
    return [pid] + [int(c) for c in children]


def pin(pids, cpus):
    for pid in pids:
        run(["taskset", "-a", "-cp", cpus, str(pid)], check=False)


def machine_busy_seconds():
    """CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq, steal), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SECOND_OVERLAY2_HOST = "unix:///run/handson-overlay2-second/docker.sock"


def second_overlay2_engine():
    """A second overlay2 dockerd (scripts/setup-engine.sh --second-overlay2 starts it) with the lab's images; its
    processes, to pin."""
    setup = run(["bash", f"{ROOT}/scripts/setup-engine.sh", "--second-overlay2"], check=False)
    if setup.returncode != 0:
        raise SystemExit("bench: the second overlay2 dockerd did not start (scripts/setup-engine.sh --second-overlay2, "
                         f"as root on Debian):\n{setup.stderr[-2000:]}")
    run([HANDSON, "lab", "prepare", "--host", SECOND_OVERLAY2_HOST])
    return daemon_processes("/run/handson-overlay2-second/docker.pid")


def answers_no_engine_has_built(folder, each_its_own=False):
    """Gives every answer's first stage a build argument with a new value (the same in every answer), so that no engine
    has its RUN steps cached: the answers are new to every engine, as a contest's are. Without it the default engine
    grades from the cache what earlier runs built there (a learner's builds, `dev check`, keep their cache as any
    `docker build` does) while the second engine compiles it."""
    value = os.urandom(8).hex()
    for name in sorted(os.listdir(folder)):
        if each_its_own:  # no answer shares a cached step with another either (copies of one kind included)
            value = os.urandom(8).hex()
        path = os.path.join(folder, name, "Dockerfile")
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            lines = [line for line in f.read().split("\n") if not line.startswith("ARG HANDSON_BENCH_ROUND=")]
        first = next((i for i, line in enumerate(lines) if line.upper().startswith("FROM ")), None)
        if first is not None:
            lines.insert(first + 1, f"ARG HANDSON_BENCH_ROUND={value}")
        with open(path, "w") as f:
            f.write("\n".join(lines))


def class16(work):
    """The class of 16 the hosts and shards benches grade: 8 kinds x 2 copies, made once per run."""
    folder = f"{work}/class16"
    if not os.path.isdir(folder):
        make_class(folder, "--only", "as-given,debian-slim,distroless-base,scratch,edits-hash-go,missing-base,"
                                     "shell-form-in-scratch,memory-hog", "--copies", "2")
    return folder


def bench_hosts(rounds, work):
    """16 answers on two engines each pinned to one core, against one engine pinned to one core: the goal is at most
    0.6 of the time. Two engines of one kind (the default overlay2 daemon and a second overlay2 daemon) say how the
    grader shares a class among engines; two unlike ones (overlay2 and the containerd store) are measured beside them,
    with the containerd store alone, since two engines at unlike paces cannot do better than 1/(1/a + 1/b).
    Pinned: each daemon and its containerd (taskset), and each grade's build and containers (`--hosts HOST=1@CPU`: the
    build's cgroup gets that cpuset, the gate containers --cpuset-cpus). The grader itself is not pinned. Also the
    peak memory of the unlike engines' batch."""
    folder = class16(work)
    # First: the setup script may start (or restart) daemons; their processes are read after it.
    second_overlay2 = second_overlay2_engine()
    overlay2 = daemon_processes("/var/run/docker.pid")
    containerd_store = daemon_processes("/run/handson-containerd-store/docker.pid")
    everything = f"0-{os.cpu_count() - 1}"
    hosts = {
        "one": "unix:///var/run/docker.sock=1@0",
        "two": f"unix:///var/run/docker.sock=1@0,{SECOND_OVERLAY2_HOST}=1@1",
        "unlike": f"unix:///var/run/docker.sock=1@0,{CONTAINERD_HOST}=1@1",
        "containerd": f"{CONTAINERD_HOST}=1@1",
    }
    scores, peaks, shares = {}, [], []
    busy_cpu = {key: [] for key in hosts}  # the whole machine's busy CPU-s per timed batch

    def batch(key, sampled=False):
        def go():
            answers_no_engine_has_built(folder)
            out = f"{work}/report-{key}"
            args = [HANDSON, "batch", "--chapter", "ictsc-diet", folder, "--out", out, "--hosts", hosts[key],
                    "--run-timeout", "8", "--regrade"]
            busy, grader = machine_busy_seconds(), children_cpu_seconds()
            start = time.perf_counter()
            if sampled:  # memory sampled every 10 ms: only in a warm-up, not in a timed batch
                peaks.append(peak_rss_mb(args))
            else:
                run(args)
            seconds = time.perf_counter() - start
            # The grader's CPU: handson and every process it started and waited for (the engine CLIs). The engines':
            # the rest of what the machine did meanwhile (daemons, builds, the answers' containers).
            grader = children_cpu_seconds() - grader
            engines = machine_busy_seconds() - busy - grader
            if key != "containerd":
                shares.append(grader / max(engines, 0.001))
            busy_cpu[key].append(grader + engines)
            print(f"bench: {key}: {seconds:.1f} s; grader CPU {grader:.1f} s, engines' CPU {engines:.1f} s",
                  file=sys.stderr, flush=True)
            with open(f"{out}/results.json") as f:
                scores[key] = {g["submission"]: (g["score"], (g.get("image") or {}).get("sizeBytes")) for g in json.load(f)}
            return seconds
        return go

    pin(overlay2, "0")
    pin(containerd_store + second_overlay2, "1")
    try:
        # One warm-up of each, so every engine has the answers' base layers read and its daemon warm.
        # The peak memory comes from the warm-up of the unlike engines' batch.
        for key in hosts:
            batch(key, sampled=key == "unlike")()
        shares.clear()
        for key in hosts:
            busy_cpu[key].clear()
        n = max(1, min(rounds, 3))
        times = {key: [] for key in hosts}
        for i in range(n):
            order = list(hosts) if i % 2 == 0 else list(reversed(hosts))
            for key in order:
                times[key].append(batch(key)())
    finally:
        pin(overlay2 + containerd_store + second_overlay2, everything)
    if any(scores.get(key) != scores.get("one") for key in hosts):
        raise SystemExit(f"bench: the engines graded differently: {scores}")
    # Each engine grading at its own pace from one queue, with nothing else between them: 1 / (1/a + 1/b).
    paces = [1 / (1 / a + 1 / b) for a, b in zip(times["one"], times["containerd"])]
    # No batch can be faster than the CPU it uses (the engines' and the grader's) spread over every core.
    cpu_floor = [busy / os.cpu_count() for busy in busy_cpu["unlike"]]
    return [Row("batch of 16 on 2 engines", "2 engines x 1 core", times["two"], "1 engine x 1 core", times["one"],
                goal=0.6, note="two overlay2 daemons (core 0 and core 1) against the default one alone (core 0) on this "
                               "2-core machine; the same scores and sizes from every engine"),
            Row("batch of 16 on 2 unlike engines", "2 engines x 1 core", times["unlike"], "1 engine x 1 core",
                times["one"], note="the overlay2 daemon (core 0) and the containerd-store daemon (core 1)"),
            Row("the containerd store alone", "containerd x 1 core", times["containerd"], "overlay2 x 1 core",
                times["one"], note="the same batch on the containerd-store daemon alone, pinned to core 1"),
            Row("2 unlike engines against their own paces", "2 engines x 1 core", times["unlike"],
                "1/(1/overlay2+1/containerd)", paces,
                note="the two unlike engines' batch against the time they would take at their own measured paces, "
                     "sharing one queue with no cost between them"),
            Row("2 unlike engines against the machine's CPU", "2 engines x 1 core", times["unlike"],
                "busy CPU-s / cores", cpu_floor,
                note="the unlike engines' batch against the CPU it used (engines and grader, /proc/stat) spread over "
                     "the machine's cores: the containerd store costs more CPU per answer, and two engines keep both "
                     "cores busy, so this is as fast as the batch could be on this machine"),
            Row("memory, batch of 16 on 2 unlike engines", "peak RSS", peaks, "100 MB limit", [100.0], goal=1.0, unit="MB"),
            Row("grader CPU in the batches of 16", "handson + CLIs", shares, "engines' CPU", [1.0], goal=0.1,
                unit="share", note="the grader's CPU (its process and the engine CLI processes it starts, getrusage of "
                                   "children) against the rest of the machine's busy CPU meanwhile (/proc/stat)")]


def bench_shards(rounds, work):
    """The class of 16 in two shards, two `handson batch --shard K/2` processes at once (one engine each, pinned to
    a core each, as in `hosts`) and then `handson report merge`, against one batch sharing the same two engines with
    `--hosts`: the goal is at most 1.05 of its time. The shards split by name, not by pace, so an uneven split shows.
    Every answer is new to every engine and to every other answer: a shared queue sends the copies of one kind to the
    engine that built the first (its cache), which a split by name cannot, and a contest's answers are not copies."""
    folder = class16(work)
    second_overlay2 = second_overlay2_engine()
    overlay2 = daemon_processes("/var/run/docker.pid")
    everything = f"0-{os.cpu_count() - 1}"
    common = ["--chapter", "ictsc-diet", folder, "--run-timeout", "8", "--regrade"]
    hosts = f"unix:///var/run/docker.sock=1@0,{SECOND_OVERLAY2_HOST}=1@1"
    scores = {}

    def one_batch():
        answers_no_engine_has_built(folder, each_its_own=True)
        out = f"{work}/report-shared"
        start = time.perf_counter()
        run([HANDSON, "batch", *common, "--out", out, "--hosts", hosts])
        seconds = time.perf_counter() - start
        with open(f"{out}/results.json") as f:
            scores["shared"] = {g["submission"]: g["score"] for g in json.load(f)}
        return seconds

    def shards():
        answers_no_engine_has_built(folder, each_its_own=True)
        outs = [f"{work}/report-shard-{k}" for k in (1, 2)]
        start = time.perf_counter()
        processes = [subprocess.Popen([HANDSON, "batch", *common, "--out", outs[0], "--shard", "1/2", "--hosts",
                                       "unix:///var/run/docker.sock=1@0"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True),
                     subprocess.Popen([HANDSON, "batch", *common, "--out", outs[1], "--shard", "2/2", "--hosts",
                                       f"{SECOND_OVERLAY2_HOST}=1@1"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True)]
        for process in processes:
            _, err = process.communicate()
            if process.returncode != 0:
                raise SystemExit(f"bench: a shard failed:\n{err[-2000:]}")
        merged = f"{work}/report-merged"
        run([HANDSON, "report", "merge", *outs, "--out", merged])
        seconds = time.perf_counter() - start
        with open(f"{merged}/results.json") as f:
            scores["shards"] = {g["submission"]: g["score"] for g in json.load(f)}
        return seconds

    pin(overlay2, "0")
    pin(second_overlay2, "1")
    try:
        one_batch(), shards()  # warm-up
        n = max(1, min(rounds, 3))
        theirs, ours = [], []
        for i in range(n):
            if i % 2 == 0:
                theirs.append(one_batch()); ours.append(shards())
            else:
                ours.append(shards()); theirs.append(one_batch())
    finally:
        pin(overlay2 + second_overlay2, everything)
    if scores.get("shared") != scores.get("shards"):
        raise SystemExit(f"bench: the shards graded differently: {scores}")
    return [Row("class of 16 in 2 shards, merged", "2 shards x 1 engine", ours, "--hosts on the same 2", theirs,
                goal=1.05, note="two overlay2 daemons (core 0 and core 1); the shards' time includes the merge")]


# 4. Parser -------------------------------------------------------------------------------------------------------
SPLIT = r"""
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
header = re.split(r"\s{2,}", lines[0].strip())
json.dump([dict(zip(header, re.split(r"\s{2,}", l.strip()))) for l in lines[1:] if l.strip()], sys.stdout)
"""


def bench_parser(rounds, work, rows=100_000):
    fixture = open(f"{ROOT}/Tests/Fixtures/listings/docker-table.txt").read().splitlines()
    listing = f"{work}/listing.txt"
    with open(listing, "w") as f:
        f.write(fixture[0] + "\n")
        body = fixture[1:]
        for i in range(rows):
            f.write(body[i % len(body)].replace("handson-fixture/edge", f"team/app-{i:06d}", 1) + "\n")
    with open(f"{work}/split.py", "w") as f:
        f.write(SPLIT)
    parsed = json.loads(run([HANDSON, "parse", "image-ls", listing]).stdout)
    if len(parsed) != rows:
        raise SystemExit(f"bench: parsed {len(parsed)} rows of {rows}")
    a, b = alternate(rounds, lambda: timed([HANDSON, "parse", "image-ls", listing])[0],
                     lambda: timed([sys.executable, f"{work}/split.py", listing])[0])
    return [Row(f"parser, {rows:,} rows", "handson parse image-ls", a, "python column split", b, goal=1.0)]


# 5. Start-up -----------------------------------------------------------------------------------------------------
def bench_startup(rounds, work):
    n = max(rounds * 4, 20)
    version, docker = alternate(n, lambda: timed([HANDSON, "--version"])[0], lambda: timed(["docker", "--version"])[0])
    chapters, docker2 = alternate(n, lambda: timed([HANDSON, "chapters"])[0], lambda: timed(["docker", "--version"])[0])
    return [Row("start-up", "handson --version", version, "docker --version", docker, goal=1.0),
            Row("start-up, 5 chapters read", "handson chapters", chapters, "docker --version", docker2, goal=2.0)]


# 6. Size measurement --------------------------------------------------------------------------------------------
def bench_size(rounds, work):
    """`handson size` reads the whole image once (image save, streamed): against `image save` alone, bytes read once.
    A fresh size cache each round, so every round measures."""
    counter = 0

    def fresh_env():
        nonlocal counter
        counter += 1
        return dict(ENV, HANDSON_CACHE_DIR=f"{work}/size-cache-{counter}")

    def measure(image, host=None):
        start = time.perf_counter()
        env = dict(fresh_env(), **({"DOCKER_HOST": host} if host else {}))
        result = subprocess.run([HANDSON, "size", image, "--json"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise SystemExit(f"bench: handson size {image} failed: {result.stderr[-600:]}")
        return time.perf_counter() - start

    def save(image, host=None):
        start = time.perf_counter()
        env = dict(ENV, **({"DOCKER_HOST": host} if host else {}))
        process = subprocess.Popen(["docker", "image", "save", image], env=env, stdout=subprocess.PIPE)
        while process.stdout.read(1 << 20):
            pass
        if process.wait() != 0:
            raise SystemExit(f"bench: docker image save {image} failed")
        return time.perf_counter() - start

    # overlay2: the layers' folders are walked (no file read); the containerd store: its archive is read.
    image = "golang:1.19"
    rows = []
    # Both stores' layers are on this machine: overlay2's diff folders, the containerd store's overlayfs snapshots.
    for label, host, goal in [("overlay2", None, 0.1), ("containerd store", CONTAINERD_HOST, 0.1)]:
        if host and not os.path.exists(host.removeprefix("unix://")):
            continue
        measure(image, host), save(image, host)  # warm the page cache for both
        a, b = alternate(max(3, rounds // 2), lambda: measure(image, host), lambda: save(image, host))
        rows.append(Row(f"size of golang:1.19 (888MB), {label}", "handson size", a, "docker image save", b, goal=goal))

    # A contest answer: what its measurement adds to its grade. It runs beside the gates, so what it adds is the time
    # it goes on after them: traced through a logging `docker` first on PATH, engine call by engine call.
    answer = f"{work}/size-answer"
    shutil.copytree(f"{ROOT}/Chapters/ictsc-diet/starter", answer)
    shutil.copy(f"{ROOT}/Chapters/ictsc-diet/solutions/multistage.Dockerfile", f"{answer}/Dockerfile")
    traced_bin = f"{work}/traced-bin"
    os.makedirs(traced_bin, exist_ok=True)
    real_docker = shutil.which("docker")
    if not os.path.exists(f"{traced_bin}/docker"):
        os.symlink(f"{ROOT}/bench/reference/trace-docker.sh", f"{traced_bin}/docker")
    added, grades, processes, cli_processes = [], [], [], []
    for round_number in range(rounds):
        # Which processes a grade starts, as it runs: its docker CLI calls (the rest goes over the engine's socket).
        log = f"{work}/trace-api-{round_number}.log"
        env = dict(ENV, PATH=f"{traced_bin}:{ENV['PATH']}", HANDSON_TRACE_LOG=log, HANDSON_REAL_DOCKER=real_docker)
        result = subprocess.run([HANDSON, "grade", "--chapter", "ictsc-diet", answer, "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0 or json.loads(result.stdout)["score"] != 100:
            raise SystemExit(f"bench: the traced grade failed: {result.stdout[-600:]}{result.stderr[-600:]}")
        processes.append(len(open(log).read().splitlines()) if os.path.exists(log) else 0)
        # When the measurement ends: with the Engine API off, every engine call is a traced CLI process.
        log = f"{work}/trace-{round_number}.log"
        env = dict(ENV, PATH=f"{traced_bin}:{ENV['PATH']}", HANDSON_TRACE_LOG=log, HANDSON_REAL_DOCKER=real_docker,
                   HANDSON_ENGINE_API="0")
        start = time.time()
        result = subprocess.run([HANDSON, "grade", "--chapter", "ictsc-diet", answer, "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        grades.append(time.time() - start)
        if result.returncode != 0 or json.loads(result.stdout)["score"] != 100:
            raise SystemExit(f"bench: the traced grade failed: {result.stdout[-600:]}{result.stderr[-600:]}")
        calls = [line.split(" ", 2) for line in open(log).read().splitlines()]
        measuring = [float(end) for _, end, args in calls
                     if "image save" in args or ".RootFS.Layers" in args or "image ls --format {{.Size}}" in args
                     or "inspect --format {{.Id}}" in args]
        gates = [float(end) for _, end, args in calls if args.startswith("run ") or args.startswith("rm -f handson-")]
        if not measuring or not gates:
            raise SystemExit(f"bench: the traced grade made no measuring or no gate call: {calls}")
        added.append(max(0.0, max(measuring) - max(gates)))
        cli_processes.append(len(calls))
    rows.append(Row("size measurement added to a contest grade", "time after gates", added, "handson grade", grades,
                    goal=0.05, note="the measurement runs beside the gates; this is how long the grade waited for it after them"))
    print(f"engine CLI processes a grade starts: {statistics.median(processes):g} with the Engine API, "
          f"{statistics.median(cli_processes):g} without (docker calls traced in {len(processes)} grades each; "
          f"builds run the buildx plugin on its own)")
    return rows


# 7. Memory -------------------------------------------------------------------------------------------------------
def peak_rss_mb(args):
    """Runs args; returns the process's own peak resident size (VmHWM), sampled every 10 ms once it runs the program
    (not while it is still the bench's own copy before exec), until it ends."""
    process = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        try:
            if os.path.basename(os.readlink(f"/proc/{process.pid}/exe")) == os.path.basename(args[0]):
                with open(f"/proc/{process.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.01)
    if process.returncode != 0 and args[1] != "probe":
        raise SystemExit(f"bench: {' '.join(args)} exited {process.returncode}")
    return peak / 1024


def bench_memory(rounds, work):
    folder = f"{work}/class20"
    make_class(folder, "--only", "as-given,debian-slim,distroless-base,scratch,edits-hash-go,no-dockerfile,"
                                 "log-flood,fork-bomb,memory-hog,shell-form-in-scratch", "--copies", "2")
    batch = peak_rss_mb([HANDSON, "batch", "--chapter", "ictsc-diet", folder, "--out", f"{work}/report20",
                         "--jobs", "2", "--run-timeout", "8"])
    # An idle handson for comparison: a probe of a closed port for half a second.
    baseline = [peak_rss_mb([HANDSON, "probe", f"http://127.0.0.1:{free_port()}/health", "--deadline", "0.5"]) for _ in range(3)]
    rows = [Row("memory, batch of 20 with a log flood", "peak RSS", [batch], "100 MB limit", [100.0], goal=1.0, unit="MB",
                note=f"an idle handson (probing a closed port for 0.5 s): {statistics.median(baseline):.1f} MB")]
    return rows


# 8. The disk watch ---------------------------------------------------------------------------------------------------
def bench_diskwatch(rounds, work):
    """The CPU a build's disk watch costs against the grade's CPU. A grade of an answer no engine has built (it compiles
    the Go program) is timed, with the whole machine's busy CPU over it; one look of the watch is measured on a cgroup
    of 20 processes (a busy build's step) with `handson dev watch-cost`. The watch looks twice a second for the whole
    grade (an upper bound: it watches only builds and the answer's containers)."""
    info = json.loads(run(["docker", "info", "--format", "{{json .}}"]).stdout)
    data_root = info.get("DockerRootDir", "/var/lib/docker")
    v2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    cgroup = "/sys/fs/cgroup/handson-bench-watch" if v2 else "/sys/fs/cgroup/pids/handson-bench-watch"
    os.makedirs(cgroup, exist_ok=True)
    sleepers = []
    try:
        for _ in range(20):
            sleeper = subprocess.Popen(["sleep", "600"])
            with open(f"{cgroup}/cgroup.procs", "w") as f:
                f.write(str(sleeper.pid))
            sleepers.append(sleeper)
        looks = [json.loads(run([HANDSON, "dev", "watch-cost", cgroup, data_root, "--looks", "2000"]).stdout)["secondsPerLook"]
                 for _ in range(rounds)]
    finally:
        for sleeper in sleepers:
            sleeper.kill()
            sleeper.wait()
        time.sleep(0.2)
        os.rmdir(cgroup)
    folder = f"{work}/watch-class"
    make_class(folder, "--only", "scratch")
    per_grade_cpu, watch_cpu = [], []
    look = statistics.median(looks)
    for _ in range(rounds):
        answers_no_engine_has_built(folder)
        busy = machine_busy_seconds()
        seconds, result = timed([HANDSON, "grade", "--chapter", "ictsc-diet", f"{folder}/scratch", "--json"])
        busy = machine_busy_seconds() - busy
        if json.loads(result.stdout)["score"] != 100:
            raise SystemExit(f"bench: the answer did not score 100: {result.stdout[-600:]}")
        per_grade_cpu.append(busy)
        watch_cpu.append(2 * seconds * look)
    return [Row("disk watch", "watch CPU a grade", watch_cpu, "the grade's busy CPU", per_grade_cpu, goal=0.01,
                note=f"one look {look * 1e6:.0f} us (20 processes), twice a second for the whole grade")]


BENCHES = {"grade": bench_grade, "readiness": bench_readiness, "batch": bench_batch, "hosts": bench_hosts,
           "shards": bench_shards, "parser": bench_parser,
           "startup": bench_startup, "size": bench_size, "memory": bench_memory,
           "diskwatch": bench_diskwatch}


def main():
    global HANDSON
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    parser.add_argument("--only", default=",".join(BENCHES))
    options = parser.parse_args()
    chosen = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    run(["swift", "build", "-c", "release", "--product", "handson"], cwd=ROOT)
    HANDSON = os.path.join(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT).stdout.strip(), "handson")
    rows = []
    with tempfile.TemporaryDirectory(prefix="handson-bench-") as work:
        for name in chosen:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            rows += BENCHES[name](options.rounds, work)
    print(f"\nHandsOn benchmarks ({options.rounds} rounds where timed; median and range)\n")
    header = ("benchmark", "handson", "median (range)", "against", "median (range)", "ratio", "goal", "")
    table = [header] + [(r.name, r.ours_label, spread(r.ours, r.unit), r.theirs_label, spread(r.theirs, r.unit), f"{r.ratio:.2f}",
                         "-" if r.goal is None else f"<= {r.goal:g}", "ok" if r.met else "MISSED") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    notes = [f"- {r.name}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))
    missed = [r.name for r in rows if not r.met]
    print(f"\n{'goals missed: ' + ', '.join(missed) if missed else 'every goal met'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
