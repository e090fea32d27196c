"""``hwnas measure`` (time a model on this machine, write the measurement CSV) and ``hwnas calibrate fit``
(fit a corrector on N seeded random measurements, report accuracy on the rest)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from hwsim.errors import HwnasError
from calibration.measurements import Measurement, MeasurementError, MeasurementSet

CLI_METHODS = ("kernel-type", "affine", "residual", "auto", "bbssp")
REPORT_KEYS = ("spearman", "kendall", "mape", "rmse_ms", "within_5pct", "within_10pct", "n_train", "n_test")


def register(subparsers: Any) -> None:
    m = subparsers.add_parser("measure", help="time a model on this machine's CPU/CUDA; write a measurement CSV")
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="hwsim zoo model name (see `hwnas` zoo listing)")
    src.add_argument("--arch", help="arch string of --space")
    m.add_argument("--space", help="space of --arch")
    m.add_argument("--input-size", type=int, help="input pixels (default: the model's/space's)")
    m.add_argument("--out", required=True, help="measurement CSV to write (rows appended/replaced by id)")
    m.add_argument("--kernels", help="also time every layer alone and write per-kernel rows to this CSV")
    m.add_argument("--id", help="measurement id (default: the model name or the arch string)")
    m.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    m.add_argument("--threads", type=int, default=1)
    m.add_argument("--warmup", type=int, default=5)
    m.add_argument("--repeats", type=int, default=20)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--plot", metavar="FILE.png", help="with --kernels: bar chart of the per-layer times")
    m.add_argument("--quiet", action="store_true", help="no progress bars")
    m.set_defaults(func=_measure)

    c = subparsers.add_parser("calibrate", help="fit latency correctors to board measurements")
    csub = c.add_subparsers(dest="calibrate_command", metavar="ACTION")
    f = csub.add_parser("fit", help="fit on N random measurements, report held-out accuracy")
    f.add_argument("--measurements", required=True, help="measurement CSV/JSON, or a shared-data table with --column")
    f.add_argument("--kernels", help="per-kernel rows CSV for the measurement CSV")
    f.add_argument("--column", help="device column of a wide table (nb201_help.csv, nb201_nnmeter.csv, fbnet_help.csv)")
    f.add_argument("--space", help="space of the archs (overrides the file's; e.g. nb201-unpruned); nb201-auto: choose "
                                    "the NB201 execution variant (pruned / unpruned / zero-folded) by leave-one-out "
                                    "cross-validation on the training measurements")
    f.add_argument("--device", required=True,
                   help="device preset / .toml for the per-layer LUT, 'unit' (count-based) or 'torch-local'")
    f.add_argument("--method", default="kernel-type", choices=CLI_METHODS,
                   help="corrector; auto = pick affine / kernel-type / residual by 5-fold cross-validation on the "
                        "training set (kernel-type unless another is better by one standard error)")
    f.add_argument("--train", type=int, required=True, help="number of training measurements (seeded random)")
    f.add_argument("--test", type=int, help="held-out measurements to evaluate (seeded random; default: all the rest)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--format", default="text", choices=("text", "json"))
    f.add_argument("--plot", help="write a predicted-vs-measured scatter PNG")
    f.add_argument("--save", help="write the fitted corrector (JSON)")
    f.add_argument("--lut-cache", help="folder caching per-layer LUTs by device and space")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.set_defaults(func=_calibrate_fit)
    c.set_defaults(func=lambda args: (c.print_help(), 2)[1])


# ------------------------------------------------------------------------------------------------
def _measure(args: argparse.Namespace) -> int:
    from calibration.boards.torch_local import TorchLocalDevice, measure_module
    from calibration.measurements import KernelTime, load_measurements, write_measurements
    from calibration.workloads import get_space

    from hwsim.progress import progress_factory, track

    if args.arch is not None and not args.space:
        raise HwnasError("--arch needs --space")
    if args.plot and not args.kernels:
        raise HwnasError("--plot draws the per-layer times: give --kernels FILE.csv too")
    if args.model is not None:
        from hwsim.zoo import get_model

        zm = get_model(args.model)
        import torch

        module = zm.build_torch(generator=torch.Generator().manual_seed(args.seed))
        shape = zm.default_input_shape if args.input_size is None else (3, args.input_size, args.input_size)
        net = zm.build_ir(shape)
        ident: dict[str, Any] = {"model": args.model}
        mid = args.id or args.model
    else:
        sp = get_space(args.space)
        arch = sp.parse(args.arch)
        module = sp.to_torch(arch, input_size=args.input_size)
        net = sp.to_workload(arch, input_size=args.input_size)
        shape = net.inputs[0][1]
        ident = {"space": args.space, "arch": sp.format(arch)}
        mid = args.id or sp.format(arch)
    st = measure_module(module, tuple(shape), device=args.device, threads=args.threads, warmup=args.warmup,
                        repeats=args.repeats, seed=args.seed)
    kernels: tuple[KernelTime, ...] = ()
    if args.kernels:
        dev = TorchLocalDevice(args.device, args.threads, min(args.warmup, 3), max(5, args.repeats // 2), args.seed)
        kernels = tuple(KernelTime(layer.name, max(dev.time_layer(layer).median_ms, 1e-6), None, (layer.name,))
                        for layer in track(net.layers, len(net.layers), "timing layers",
                                           progress_factory(args.quiet)))
    m = Measurement(id=mid, device=f"local-{args.device}", latency_ms=st.median_ms, input_size=args.input_size,
                    latency_std_ms=st.std_ms, latency_p10_ms=st.p10_ms, latency_p90_ms=st.p90_ms,
                    repeats=st.repeats, conditions=st.conditions, kernels=kernels, **ident)
    out = Path(args.out)
    existing: list[Measurement] = []
    if out.is_file():
        kpath = args.kernels if args.kernels and Path(args.kernels).is_file() else None
        existing = [x for x in load_measurements(out, kpath) if x.id != mid]
    write_measurements(out, existing + [m], args.kernels)
    if args.plot:
        from hwsim.plots import bar_chart

        bar_chart(args.plot, [k.kernel for k in kernels], [k.latency_ms for k in kernels],
                  f"{mid} on local {args.device} ({args.threads} thread(s)): each layer timed alone; "
                  f"sum {sum(k.latency_ms for k in kernels):.3f} ms, end to end {st.median_ms:.3f} ms",
                  "median latency (ms)", "layer (execution order)")
    print(f"{mid}: median {st.median_ms:.4f} ms (p10 {st.p10_ms:.4f}, p90 {st.p90_ms:.4f}, {st.repeats} runs, "
          f"{st.threads} thread(s), {st.device}) -> {out}")
    return 0


# ------------------------------------------------------------------------------------------------
def _load(args: argparse.Namespace) -> MeasurementSet:
    from dataclasses import replace

    from calibration.execution import NB201_AUTO
    from calibration.measurements import load_measurements

    path = Path(args.measurements)
    space = "nb201" if args.space == NB201_AUTO else args.space  # the variant is chosen later, on the training set
    if args.column:
        from calibration import datasets

        header = datasets._header_only(path)
        if "arch_str" in header:
            ms = datasets.load_nb201_latency(path, args.column, space).measurements
        elif "op_idx_list" in header:
            ms = datasets.load_fbnet_help(path, args.column, space or "fbnet").measurements
        else:
            raise MeasurementError(f"{path}:1: --column needs a wide table with 'arch_str' or 'op_idx_list' columns")
        return ms
    ms = load_measurements(path, args.kernels)
    if space:
        ms = MeasurementSet(tuple(replace(m, space=space) if m.arch is not None else m for m in ms), ms.source)
    return ms


def _choose_execution(args: argparse.Namespace, train: MeasurementSet, device: Any) -> Any:
    """``--space nb201-auto``: the execution variant chosen on the training measurements only."""
    from calibration.execution import choose_execution

    if any(m.arch is None for m in train):
        raise HwnasError("--space nb201-auto needs measurements of NB201 archs (an 'arch' per row)")
    sizes = {m.input_size for m in train}
    if len(sizes) != 1:
        raise HwnasError(f"--space nb201-auto needs one input size in the training measurements, got "
                         f"{sorted(sizes, key=str)}")
    return choose_execution([m.arch for m in train], train.latencies_ms, device, input_size=sizes.pop())


def _device(name: str) -> Any:
    if name in ("unit", "torch-local"):
        if name == "torch-local":
            from calibration.boards.torch_local import TorchLocalDevice

            return TorchLocalDevice()
        return None
    from hwsim.devices import get_device

    return get_device(name)


def _calibrate_fit(args: argparse.Namespace) -> int:
    from calibration.correctors import TableSource, make_corrector
    from calibration.execution import NB201_AUTO
    from calibration.lut import LutCache, build_lut, unit_lut
    from calibration.metrics import accuracy
    from calibration.workloads import WorkloadResolver
    from hwsim.progress import progress_factory, track

    progress = progress_factory(args.quiet)
    ms = _load(args)
    n = len(ms)
    if args.train < 1 or args.train >= n:
        raise HwnasError(f"--train must be between 1 and {n - 1} (the file has {n} measurements), got {args.train}")
    resolver = WorkloadResolver(Path(args.measurements).parent)
    resolver.validate(ms)  # every row checked (file:line errors), even those not sampled
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(n)
    if args.test is not None and not 1 <= args.test <= n - args.train:
        raise HwnasError(f"--test must be between 1 and {n - args.train}, got {args.test}")
    stop = n if args.test is None else args.train + args.test
    train, test = ms.subset(order[: args.train]), ms.subset(order[args.train:stop])
    device = _device(args.device)
    choice = None
    if args.space == NB201_AUTO:
        from dataclasses import replace

        choice = _choose_execution(args, train, device)
        train, test = (MeasurementSet(tuple(replace(m, space=choice.space) for m in s), s.source) for s in (train, test))
    ms = MeasurementSet(tuple(train) + tuple(test), ms.source)
    names = {m.space for m in ms}
    space_name = next(iter(names)) if len(names) == 1 else None
    y_test = test.latencies_ms
    if args.method == "bbssp":
        from calibration.bbssp import BBSSPLut

        spaces = {m.space for m in ms}
        if device is None or len(spaces) != 1 or None in spaces:
            raise HwnasError("--method bbssp needs a device preset and measurements of archs of one backbone space")
        space = resolver.space(next(iter(spaces)))
        cor: Any = BBSSPLut.from_device(space, device).fit(train)
        pred = cor.predict(test)
    else:
        nets = [resolver.workload(m) for m in track(ms, len(ms), "workloads", progress)]
        if device is None:
            lut = unit_lut(nets)
            src = TableSource(unit=True)
        else:
            if args.lut_cache:
                key_space = json.dumps(sorted({(m.space or "", m.model or "", m.network or "") for m in ms}))
                lut = LutCache(args.lut_cache).get_or_build(device, key_space, nets)
            else:
                lut = build_lut(device, nets, progress=progress)
            src = TableSource(device=device)
        by_id = {m.id: net for m, net in zip(ms, nets)}
        cor = make_corrector(args.method, lut, src, resolver.space(space_name) if space_name else None, seed=args.seed)
        cor = cor.fit_workloads([by_id[m.id] for m in train], train.latencies_ms)
        pred = cor.predict_workloads([by_id[m.id] for m in test])
    rep = accuracy(pred, y_test, len(train))
    auto = args.method == "auto"
    method = cor.chosen.method if auto else args.method
    label = f"auto -> {method}" if auto else method
    cv = ", ".join(f"{m} {v:.2f}%" for m, v in cor.cv_mape) if auto else ""
    if args.plot:
        from hwsim.plots import calibration_scatter

        calibration_scatter(args.plot, pred, y_test, f"{label} corrector, LUT device {args.device}: "
                            f"held-out n={len(test)}, MAPE {rep.mape:.2f}%")
    if args.save:
        cor.save(args.save)
    if args.format == "json":
        d = rep.to_dict()
        extra: dict[str, Any] = {"method": method, "space": space_name}
        if choice is not None:
            extra["space_loo_mape"] = dict(choice.loo_mape)
        print(json.dumps({**{k: d[k] for k in REPORT_KEYS}, **extra}, indent=1))
    else:
        if choice is not None:
            print(choice.to_text())
        print(f"{label}{f' (cross-validated MAPE: {cv})' if cv else ''} corrector, LUT device {args.device}: "
              f"{rep.to_text()}")
    return 0


__all__ = ["register"]
