"""`make bench`: every benchmark, one report.

1. the pytest-benchmark suites in bench/ (`pytest bench --benchmark-enable`);
2. the routing-quality report (`omniroute bench quality`);
3. load-generator runs (`omniroute loadgen`) against servers this script starts on free
   loopback ports with `--bench-echo`, so every gRPC figure comes with its echo ratio: the
   unary RPCs with client and server on separate CPUs, then every target on shared CPUs.

Writes `results/report.md` with the figures, the machine and its load, plus the PNG plots and
the raw JSON of each part. `--quick` shortens everything (a smoke run of the pipeline).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serving(target: str) -> bool:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                              timeout=1.0)
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "cpu": cpu, "system": platform.platform(),
            "python": platform.python_version(), "load": os.getloadavg(), "commit": commit,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def run(argv: list[str], log: Path) -> int:
    print("$", " ".join(argv), flush=True)
    with log.open("w") as out:
        process = subprocess.run(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                 check=False)
    if process.returncode:
        print(f"  exit {process.returncode}; see {log}", flush=True)
    return process.returncode


def _num(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def pytest_bench(out: Path, quick: bool) -> list[str]:
    data = out / "bench.json"
    code = run([PYTHON, "-m", "pytest", "bench", "-q", "-p", "no:cacheprovider",
                "--benchmark-disable" if quick else "--benchmark-enable",
                f"--benchmark-json={data}"], out / "bench.log")
    lines = ["## Micro-benchmarks (pytest-benchmark, bench/)", ""]
    if code:
        lines.append(f"`pytest bench` exited with {code}; see `bench.log`.")
    if not data.exists() or quick:
        return [*lines, "Not timed (quick run)." if quick else "No figures.", ""]
    benchmarks = json.loads(data.read_text()).get("benchmarks", [])
    lines += ["| benchmark | median | min | ops/s | rounds | extra |", "|---|---|---|---|---|---|"]
    for b in benchmarks:
        s = b["stats"]
        extra = ", ".join(f"{k} {_num(v)}" for k, v in b.get("extra_info", {}).items())
        lines.append(f"| {b['fullname'].split('::', 1)[-1]} | {s['median'] * 1e3:.3f} ms | "
                     f"{s['min'] * 1e3:.3f} ms | {s['ops']:,.1f} | {s['rounds']} | {extra} |")
    return [*lines, ""]


def quality(out: Path, quick: bool) -> list[str]:
    args = ["--nodes", "60", "--skus", "400", "--orders", "300", "--milp-sample", "20"] if quick \
        else []
    code = run([PYTHON, "-m", "omniroute", "bench", "quality", "--out", str(out), *args],
               out / "quality.log")
    md = out / "quality.md"
    if code or not md.exists():
        return ["## Routing quality", "", f"failed (exit {code}); see `quality.log`.", ""]
    return [md.read_text(), ""]


def _pinned(cpus: set[int] | None) -> list[str]:
    """A command prefix confining a child (and all it starts) to `cpus` (util-linux taskset)."""
    if cpus is None:
        return []
    return ["taskset", "-c", ",".join(str(c) for c in sorted(cpus))]


def _load_run(out: Path, tag: str, rpcs: list[str], *, quick: bool, serve_args: list[str],
              loadgen_args: list[str], server_cpus: set[int] | None = None,
              client_cpus: set[int] | None = None) -> tuple[dict[str, Any] | None, str]:
    """Start a server on free loopback ports, load it with `omniroute loadgen`, stop it.
    Returns the loadgen JSON (None on failure) and what to report when it failed."""
    port, sync_port = free_port(), free_port()
    router, sync = f"127.0.0.1:{port}", f"127.0.0.1:{sync_port}"
    with tempfile.TemporaryDirectory(prefix="omniroute-bench-") as state, \
            (out / f"serve-{tag}.log").open("w") as log:
        server = subprocess.Popen(
            [*_pinned(server_cpus), PYTHON, "-m", "omniroute", "serve", "--bench-echo",
             "--port", str(port), "--sync-port", str(sync_port), "--metrics-port", "0",
             "--state", state, *serve_args],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 300
            while not (serving(router) and serving(sync)):
                if server.poll() is not None or time.monotonic() > deadline:
                    return None, f"the server did not start; see `serve-{tag}.log`."
                time.sleep(0.5)
            data = out / f"loadgen-{tag}.json"
            rpc_args = [arg for rpc in rpcs for arg in ("--rpc", rpc)]
            code = run([*_pinned(client_cpus), PYTHON, "-m", "omniroute", "loadgen",
                        "--target", router, "--sync-target", sync, *rpc_args, "--mode", "both",
                        "--duration", "1" if quick else "10", *loadgen_args,
                        "--json", str(data)], out / f"loadgen-{tag}.log")
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    if code or not data.exists():
        return None, f"loadgen failed (exit {code}); see `loadgen-{tag}.log`."
    result: dict[str, Any] = json.loads(data.read_text())
    return result, ""


def loadgen(out: Path, quick: bool) -> list[str]:
    duration = "1" if quick else "10"
    lines: list[str] = []
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2 and shutil.which("taskset"):
        # Unary RPCs with client and server on separate CPUs: sharing them, the client's
        # own load moved the echo ceiling 2x between runs and decided the ratio.
        server_cpus, client_cpus = set(cpus[:len(cpus) // 2]), set(cpus[len(cpus) // 2:])
        result, failure = _load_run(
            out, "split", ["route", "reserve", "availability"], quick=quick,
            serve_args=["--workers", str(len(server_cpus))],
            loadgen_args=["--processes", str(len(client_cpus))],
            server_cpus=server_cpus, client_cpus=client_cpus)
        lines += ["## gRPC load, unary, client and server on separate CPUs", ""]
        if result is None:
            lines += [failure, ""]
        else:
            plot_loadgen(result["phases"], out / "loadgen-split.png")
            lines += loadgen_markdown(
                result, duration, "loadgen-split.png",
                f"Server (router workers and sidecar) on CPU {sorted(server_cpus)} with "
                f"{len(server_cpus)} router worker(s); load generator on CPU "
                f"{sorted(client_cpus)}, {len(client_cpus)} process(es) x 2 channels (16 calls "
                "in flight per process).")
    else:
        lines += ["## gRPC load, unary, client and server on separate CPUs", "",
                  f"skipped: needs 2 CPUs (this process may use {len(cpus)}) and `taskset`.",
                  ""]
    result, failure = _load_run(
        out, "shared", ["route", "reserve", "batch", "stream", "availability", "deltas"],
        quick=quick, serve_args=[], loadgen_args=[])
    lines += ["## gRPC load, all targets, client and server sharing the CPUs", ""]
    if result is None:
        return [*lines, failure, ""]
    plot_loadgen(result["phases"], out / "loadgen.png")
    return [*lines, *loadgen_markdown(
        result, duration, "loadgen.png",
        f"Router workers = cores ({os.cpu_count()}); 2 client processes x 2 channels (16 "
        "unary calls or 4 streams in flight per process) on the same CPUs as the server.")]


def loadgen_markdown(result: dict[str, Any], duration: str, plot: str, setup: str
                     ) -> list[str]:
    from omniroute.api.loadgen import steal_text

    lines = [
        f"Embedded demo network, {duration} s per phase. {setup} "
        "`reserve` is Route with reserve and a "
        "2 s hold (expiry hands the stock back, so the run measures reserving rather than an "
        "empty inventory); NOTHING_HELD counts its answers that allocated nothing. Each "
        "target is preceded by its Echo twin on the same server with the same payloads; "
        "'x echo' is target / echo, measured seconds apart in one run. Open loop runs at half "
        "the closed-loop rate of the target; its latencies are from the intended send time. "
        "'steal ms' is CPU time the hypervisor took from this VM during the phase (all CPUs): "
        "a phase with steal has tails that are partly the host's. "
        f"Load average while it ran: {', '.join(f'{v:.2f}' for v in result['load'])}.",
        "",
        "| phase | mode | calls/s | items/s | x echo | p50 ms | p90 ms | p99 ms | p99.9 ms | "
        "p99 x echo | steal ms | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in result["phases"]:
        ratio = s.get("throughput_ratio") if s["mode"] == "closed" else None
        p99_ratio = s.get("p99_ratio")
        mode = s["mode"] if s["mode"] == "closed" else f"open @{s['rate']:,.0f}/s"
        errors = ", ".join(f"{k} {v}" for k, v in sorted(s["errors"].items())) or "none"
        steal = steal_text(s["steal_ms"])
        lines.append(
            f"| {s['name']} | {mode} | {s['calls_per_s']:,.0f} | {s['items_per_s']:,.0f} "
            f"{s['item']} | {f'{ratio:.2f}' if ratio else ''} | {s['p50_ms']:.2f} | "
            f"{s['p90_ms']:.2f} | {s['p99_ms']:.2f} | {s['p99.9_ms']:.2f} | "
            f"{f'{p99_ratio:.2f}' if p99_ratio else ''} | {steal} | {errors} |")
    return [*lines, "", f"![loadgen]({plot})", ""]


def plot_loadgen(phases: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = [s for s in phases if s.get("twin")]
    # Open-loop throughput is the offered rate by construction: only closed loop has a ceiling.
    closed = [s for s in targets if s["mode"] == "closed"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    names = [s["name"] for s in targets]
    axes[0].bar([s["name"] for s in closed], [s["throughput_ratio"] for s in closed],
                color="#1f6feb")
    axes[0].axhline(1.0, color="#8b949e", linestyle="--")
    axes[0].set_title("throughput as a fraction of the echo ceiling")
    width = 0.2
    for k, p in enumerate(("p50", "p90", "p99", "p99.9")):
        axes[1].bar([i + (k - 1.5) * width for i in range(len(targets))],
                    [s[f"{p}_ms"] for s in targets], width=width, label=p)
    axes[1].set_xticks(range(len(targets)), names)
    axes[1].set_yscale("log")
    axes[1].set_ylabel("ms")
    axes[1].set_title("latency percentiles")
    axes[1].legend()
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=25)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--quick", action="store_true", help="smoke run: short and small")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["pytest", "quality", "loadgen"], help="skip a part")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    before = machine()
    sections: list[str] = []
    if "loadgen" not in args.skip:  # first: the most load-sensitive figures
        sections += loadgen(out, args.quick)
    if "quality" not in args.skip:
        sections += quality(out, args.quick)
    if "pytest" not in args.skip:
        sections += pytest_bench(out, args.quick)
    after = os.getloadavg()
    header = [
        "# omniroute benchmark report",
        "",
        f"{before['date']}, commit {before['commit'] or 'unknown'}. Machine: "
        f"{before['cpus']} CPUs ({before['cpu']}), {before['system']}, Python "
        f"{before['python']}. Load average (1/5/15 min) before: "
        f"{', '.join(f'{v:.2f}' for v in before['load'])}; after: "
        f"{', '.join(f'{v:.2f}' for v in after)}. Figures from a shared or loaded machine "
        "move; the ratios (to echo, to baselines, to the optimum) move much less.",
        "",
    ]
    report = out / "report.md"
    report.write_text("\n".join(header + sections))
    print(f"wrote {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
