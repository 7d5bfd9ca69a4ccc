"""The `omniroute` command line."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import click

from omniroute.sim.demo_network import EMBEDDED

DEFAULT_TARGET = "localhost:50051"


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="omniroute")
def main() -> None:
    """omniroute: cost-optimal, explainable order routing for distributed order management."""


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Network directory (nodes.csv, skus.csv, ...). Default: the embedded demo.")
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".omniroute-state"), show_default=True,
              help="Directory for durable state (journals, snapshots).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=50051, show_default=True, help="Router gRPC port.")
@click.option("--sync-port", default=50052, show_default=True, help="Sidecar gRPC port.")
@click.option("--metrics-port", default=9464, show_default=True,
              help="Prometheus metrics HTTP port (0 disables).")
@click.option("--bench-echo", is_flag=True,
              help="Also serve the benchmark-only Echo service (for `omniroute loadgen`).")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(min=0),
              help="Router worker processes sharing the port; 0 means one per core.")
@click.option("--hold-seconds", "hold_s", default=900.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True),
              help="Hold time of a reservation whose request sets none.")
@click.option("-v", "--verbose", is_flag=True)
def serve(data_dir: Path | None, state_dir: Path, host: str, port: int, sync_port: int,
          metrics_port: int, bench_echo: bool, workers: int, hold_s: float,
          verbose: bool) -> None:
    """Run the router and the sync sidecar until SIGINT/SIGTERM."""
    from omniroute.serve import serve as run
    from omniroute.sim import embedded_network_dir

    _logging(verbose)
    network_dir = data_dir if data_dir is not None else embedded_network_dir()
    sys.exit(run(network_dir=network_dir, state_dir=state_dir, host=host, port=port,
                 sync_port=sync_port, metrics_port=metrics_port, bench_echo=bench_echo,
                 workers=workers, default_hold_s=hold_s))


@main.command(hidden=True)
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=50052)
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True)
@click.option("--parent-pid", type=int, default=0, help="Die when this process dies.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Network directory of a new state. Default: the embedded demo.")
def sidecar(host: str, port: int, state_dir: Path, parent_pid: int,
            data_dir: Path | None) -> None:
    """The sync sidecar process (started by `serve`)."""
    from omniroute.serve import install_stop_handlers
    from omniroute.sync.sidecar import die_with_parent, run_sidecar

    _logging(False)
    if parent_pid:
        die_with_parent(parent_pid)
    stop = threading.Event()
    install_stop_handlers(stop)
    run_sidecar(bind=f"{host}:{port}", state_dir=state_dir, stop=stop, network_dir=data_dir)


@main.command("demo-network")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--nodes", default=EMBEDDED.nodes, show_default=True, help="Number of nodes.")
@click.option("--skus", default=EMBEDDED.skus, show_default=True, help="Number of SKUs.")
@click.option("--seed", default=EMBEDDED.seed, show_default=True,
              help="Random seed (same seed, same files).")
def demo_network(directory: Path, nodes: int, skus: int, seed: int) -> None:
    """Write a realistic US demo network (real ZIP coordinates) to DIRECTORY."""
    from omniroute.config import load_network
    from omniroute.sim import write_demo_network

    directory.mkdir(parents=True, exist_ok=True)
    write_demo_network(directory, nodes=nodes, skus=skus, seed=seed)
    network = load_network(directory)
    click.echo(f"wrote {len(network.nodes)} nodes, {len(network.skus)} SKUs, "
               f"{len(network.inventory)} stock positions, {len(network.supply)} supply rows, "
               f"{len(network.postal)} postal areas to {directory}")


@main.command()
@click.option("--example", type=click.Choice(["seed", "pickup"]), default="seed",
              show_default=True, help="Which example order to send.")
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="Router address.")
@click.option("--explain", is_flag=True, help="Ask for candidate nodes and why they lost.")
@click.option("--json", "as_json", is_flag=True, help="Print the raw response as JSON.")
def route(example: str, target: str, explain: bool, as_json: bool) -> None:
    """Send an example order to a running server and print the decision."""
    from omniroute.api.client import print_route, route_example

    response = route_example(target, example, explain=explain)
    print_route(response, as_json=as_json)


@main.command()
@click.argument("skus", nargs=-1, required=True)
@click.option("--channel", default="web", show_default=True)
@click.option("--node", "node_ids", multiple=True, help="Only these nodes (repeatable).")
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="Router address.")
def availability(skus: tuple[str, ...], channel: str, node_ids: tuple[str, ...],
                 target: str) -> None:
    """Show enterprise availability (ATP) of SKUS from a running server."""
    from omniroute.api.client import get_availability, print_availability

    print_availability(get_availability(target, list(skus), channel=channel,
                                        node_ids=list(node_ids)))


@main.command()
@click.option("--target", default=DEFAULT_TARGET, show_default=True, help="Server address.")
@click.option("--service", default="", help="Service name to check ('' = the whole server).")
@click.option("--timeout", "timeout_s", default=3.0, show_default=True, help="Seconds.")
def health(target: str, service: str, timeout_s: float) -> None:
    """Exit 0 when the server's gRPC health service says SERVING (for HEALTHCHECK probes)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(target))
    try:
        reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
    except grpc.RpcError as error:
        click.echo(f"{target}: {error.code().name}", err=True)
        sys.exit(1)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    click.echo(f"{target}: {status}")
    sys.exit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1)


@main.command("load-inventory")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--state", "state_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".omniroute-state"), show_default=True,
              help="State directory of a stopped sidecar.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Network directory, when the state directory is new. Default: the demo.")
def load_inventory(file: Path, state_dir: Path, data_dir: Path | None) -> None:
    """Replace all on-hand with FILE (columns sku,node_id,disposition,qty), durably."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from omniroute.errors import OmnirouteError
    from omniroute.sync.bulk import load_inventory as load

    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn()) as progress:
        task = progress.add_task(f"loading {file.name}", total=file.stat().st_size)
        try:
            summary = load(file, state_dir, network_dir=data_dir,
                           advance=lambda n: progress.advance(task, n))
        except OmnirouteError as error:
            raise click.ClickException(str(error)) from None
        progress.update(task, completed=file.stat().st_size)
    click.echo(f"{summary.rows:,} rows, {summary.new_skus:,} new SKUs, "
               f"{summary.changed_cells:,} positions changed; inventory version "
               f"{summary.version}")


@main.command()
@click.option("--target", default=DEFAULT_TARGET, show_default=True,
              help="Router address (loopback only); start it with `serve --bench-echo`.")
@click.option("--sync-target", default="localhost:50052", show_default=True,
              help="Sidecar address, for the deltas target (loopback only).")
@click.option("--rpc", "rpcs", multiple=True, default=("route",), show_default=True,
              type=click.Choice(["route", "reserve", "batch", "stream", "availability",
                                 "deltas"]),
              help="Target to load (repeatable): Route dry run, Route with reserve (2 s "
                   "holds), RouteBatch, RouteStream, GetAvailability, StreamDeltas (sidecar).")
@click.option("--mode", type=click.Choice(["closed", "open", "both"]), default="closed",
              show_default=True,
              help="closed: max throughput; open: fixed arrival rate, latency from the "
                   "intended send time; both: closed, then open at --rate (default: half the "
                   "closed-loop rate).")
@click.option("--rate", default=0.0, show_default=True,
              help="Open loop: calls/s over all processes.")
@click.option("--duration", "duration_s", default=10.0, show_default=True,
              help="Seconds per phase (each target and its echo twin are one phase each).")
@click.option("--max-calls", default=1_000_000, show_default=True,
              help="Upper bound on calls per phase.")
@click.option("--processes", default=2, show_default=True, help="Client processes.")
@click.option("--channels", default=2, show_default=True,
              help="Channels (TCP connections) per process.")
@click.option("--concurrency", default=16, show_default=True,
              help="Closed loop: unary calls in flight per process.")
@click.option("--streams", default=4, show_default=True,
              help="RouteStream / StreamDeltas: open streams per process, one message in "
                   "flight each (keep the total below the server's 16 handler threads).")
@click.option("--batch-size", default=100, show_default=True,
              help="Orders per RouteBatch / RouteStream message.")
@click.option("--delta-batch", default=1_000, show_default=True,
              help="Deltas per StreamDeltas message (+1 and -1 alternate: net zero).")
@click.option("--orders", default=4_000, show_default=True,
              help="Distinct orders generated (1-5 lines each) and cycled through.")
@click.option("--seed", default=1, show_default=True)
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="The server's network directory (orders use its SKUs and postal areas). "
                   "Default: the embedded demo.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the figures to this JSON file.")
def loadgen(target: str, sync_target: str, rpcs: tuple[str, ...], mode: str, rate: float,
            duration_s: float, max_calls: int, processes: int, channels: int, concurrency: int,
            streams: int, batch_size: int, delta_batch: int, orders: int, seed: int,
            data_dir: Path | None, json_path: Path | None) -> None:
    """Load a running server over gRPC and report throughput, latency percentiles and errors,
    each next to the Echo ceiling of the same server measured in the same run."""
    import json

    from omniroute.api.loadgen import LoadgenError, Settings, print_summaries, run_load
    from omniroute.sim import embedded_network_dir

    settings = Settings(
        target=target, sync_target=sync_target, rpcs=rpcs, mode=mode, rate=rate,
        duration_s=duration_s, max_calls=max_calls, processes=processes, channels=channels,
        concurrency=concurrency, streams=streams, batch_size=batch_size,
        delta_batch=delta_batch, orders=orders, seed=seed,
        data_dir=data_dir if data_dir is not None else embedded_network_dir())
    try:
        summaries = run_load(settings, log=lambda m: click.echo(m, err=True))
    except LoadgenError as error:
        raise click.ClickException(str(error)) from None
    print_summaries(summaries)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"load": os.getloadavg(), "cpus": os.cpu_count(),
                                         "phases": summaries}, indent=2))


@main.group()
def bench() -> None:
    """Benchmark reports (figures, not pass/fail)."""


@bench.command()
@click.option("--nodes", default=300, show_default=True, help="Nodes of the generated network.")
@click.option("--skus", default=2_000, show_default=True, help="SKUs of the generated network.")
@click.option("--orders", default=5_000, show_default=True, help="Orders in the simulated day.")
@click.option("--milp-sample", default=200, show_default=True,
              help="Orders also solved to optimality by the MILP.")
@click.option("--seed", default=11, show_default=True, help="Network and order seed.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Use this network directory instead of generating one.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True,
              help="Results directory (quality.md, quality.json, PNG plots).")
def quality(nodes: int, skus: int, orders: int, milp_sample: int, seed: int,
            data_dir: Path | None, out_dir: Path) -> None:
    """Route a simulated day with omniroute and with DOM baselines (first node by priority,
    nearest node with stock, fewest splits), plus the MILP optimum on a sample; report cost,
    shipments, splits, distance, promise hits and unfilled units.

    Needs scipy and matplotlib: install the `bench` (or `dev`) extra,
    e.g. pip install 'omniroute[bench]'.
    """
    try:
        import matplotlib  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as error:
        raise click.ClickException(
            f"{error.name} is missing: install the bench extra (pip install "
            "'omniroute[bench]')") from None
    from omniroute.sim.quality import QualitySpec, print_report, run_quality, write_report

    report = run_quality(QualitySpec(nodes=nodes, skus=skus, orders=orders,
                                     milp_sample=milp_sample, seed=seed),
                         network_dir=data_dir, log=lambda m: click.echo(m, err=True))
    print_report(report)
    for path in write_report(report, out_dir):
        click.echo(f"wrote {path}")
