"""Regenerate, or with --check verify, the checked-in protobuf and gRPC stubs.

This is the one way the stubs are made (STYLE habit 7). Proto paths equal Python import paths
(`protos/omniroute/v1/router.proto` -> `omniroute.v1.router_pb2`), so protoc's output needs no
import rewriting and lands in `src/omniroute/v1/` as it is.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
PACKAGE = Path("omniroute") / "v1"
OUT = ROOT / "src"
HEADER = '"""Generated protobuf/gRPC stubs of the omniroute.v1 API (scripts/gen_protos.py)."""\n'


def generate(out_root: Path) -> None:
    """Run protoc on every proto of the package into `out_root/omniroute/v1`."""
    well_known = str(resources.files("grpc_tools") / "_proto")
    sources = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / PACKAGE).glob("*.proto"))
    (out_root / PACKAGE).mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    (out_root / PACKAGE / "__init__.py").write_text(HEADER)


def generated_files(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="fail if the checked-in stubs differ from freshly generated ones")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch)
        generate(fresh)
        names = generated_files(fresh / PACKAGE)
        target = OUT / PACKAGE
        if check:
            current = generated_files(target) if target.is_dir() else set()
            stale = sorted(names ^ current)
            stale += sorted(n for n in names & current
                            if not filecmp.cmp(fresh / PACKAGE / n, target / n, shallow=False))
            if stale:
                print(f"stale generated stubs: {', '.join(stale)}; run `make protos`",
                      file=sys.stderr)
                return 1
            print(f"generated stubs are current ({len(names)} files)")
            return 0
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(fresh / PACKAGE, target)
        print(f"wrote {len(names)} files to {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
