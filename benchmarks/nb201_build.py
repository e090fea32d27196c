"""Build the workload of every NAS-Bench-201 cell (15,625) and print the time.

Claim checked: all 15,625 archs build with ``SearchSpace.to_workload`` in under a minute (one process).
Prints wall and CPU time (the machine may be shared), and the split between emitting the layers
(spaces + NetworkBuilder) and constructing/validating the :class:`hwsim.workload.Network` (topological sort,
shape checks). Also prints the number of disconnected cells and the MAC range.

    python benchmarks/nb201_build.py
"""

from __future__ import annotations

import time

from spaces.nb201 import is_connected, nb201_space
from spaces.ops import GraphEmitter


def main() -> None:
    space = nb201_space()
    archs = list(space.enumerate())
    w0, c0 = time.perf_counter(), time.process_time()
    macs = [space.to_workload(a).total_macs for a in archs]
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    print(f"nb201 to_workload x {len(archs)}: wall {wall:.1f} s, cpu {cpu:.1f} s "
          f"({1e3 * cpu / len(archs):.2f} ms/arch cpu); limit 60 s -> {'PASS' if cpu < 60 else 'FAIL'} (cpu)")
    emit = build = 0.0
    for a in archs[::5]:  # split on every 5th arch
        t0 = time.process_time()
        e = GraphEmitter("nb201", (3, 32, 32))
        out = space.model.emit(space, a, e, 10)
        t1 = time.process_time()
        e.build(out)
        t2 = time.process_time()
        emit, build = emit + t1 - t0, build + t2 - t1
    share = build / (emit + build)
    print(f"split (cpu, 1/5 sample): emit layers {emit:.1f} s, Network() construction {build:.1f} s "
          f"({100 * share:.0f} % of the total)")
    disconnected = sum(not is_connected(a) for a in archs)
    print(f"disconnected cells: {disconnected}; MACs range {min(macs) / 1e6:.3f} .. {max(macs) / 1e6:.3f} M")


if __name__ == "__main__":
    main()
