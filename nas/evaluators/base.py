"""The accuracy-evaluator interface shared by ``train``, ``zero-cost`` and ``table``.

An evaluator is a small frozen, picklable object (it travels to process-pool and Ray workers) with
``evaluate(task) -> EvalResult``. Each task carries its own seed, derived from the run seed and the network's
id (:func:`task_seed`), so a result does not depend on evaluation order or on how many processes run.

Evaluators whose ``needs_parent`` is true (``train``) evaluate SSBN_0 of each family first with
``keep_state=True``; the other SSBNs then receive SSBN_0's serialised weights as ``parent_state`` and fine-tune
from them.
"""

from __future__ import annotations

import contextlib
import io
import math
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from hwsim.errors import HwnasError
from spaces.core import Arch, SearchSpace


class EvaluatorError(HwnasError):
    """Bad evaluator configuration or input."""


def task_seed(seed: int, key: str) -> int:
    """A 63-bit seed for network ``key`` (e.g. ``"bbssp-res-cifar/ssbn_layer3_res4"``) under run seed ``seed``.

    Independent of order and process count: it depends only on the two values."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise EvaluatorError(f"seed must be a non-negative integer, got {seed!r}")
    ss = np.random.SeedSequence([seed, zlib.crc32(key.encode("utf-8"))])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


@dataclass(frozen=True)
class EvalTask:
    """One network to evaluate.

    ``key``: stable id (``<space>/<ssbn key>``); ``seed``: from :func:`task_seed`; ``parent_state``: serialised
    weights to start from (see :func:`state_to_bytes`); ``keep_state``: return the trained weights.
    """

    space: SearchSpace
    arch: Arch
    key: str
    seed: int
    parent_state: bytes | None = None
    keep_state: bool = False


@dataclass(frozen=True)
class EvalResult:
    """What an evaluator reports for one network.

    ``accuracy``: top-1 test accuracy as a fraction (None for proxy evaluators); ``scores``: zero-cost proxy
    scores by proxy name (empty for accuracy evaluators); ``state``: serialised weights when asked for;
    ``details``: extra JSON-able facts (loss, steps, samples).
    """

    accuracy: float | None
    scores: Mapping[str, float] = field(default_factory=dict)
    state: bytes | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.accuracy is not None and not (math.isfinite(self.accuracy) and 0.0 <= self.accuracy <= 1.0):
            raise EvaluatorError(f"accuracy must be a fraction in [0, 1], got {self.accuracy!r}")
        object.__setattr__(self, "scores", dict(self.scores))
        object.__setattr__(self, "details", dict(self.details))

    def to_dict(self) -> dict[str, Any]:
        """JSON form (weights are not included)."""
        return {"accuracy": self.accuracy, "scores": dict(self.scores), "details": dict(self.details)}


@runtime_checkable
class Evaluator(Protocol):
    """Accuracy (or accuracy-proxy) of one network."""

    name: str

    @property
    def needs_parent(self) -> bool:
        """Whether SSBN_0 must be evaluated first and its weights handed to the other SSBNs."""
        ...

    def config(self) -> dict[str, Any]:
        """JSON-able settings, stored with a profile so a resumed run can check it uses the same ones."""
        ...

    def evaluate(self, task: EvalTask) -> EvalResult: ...


def state_to_bytes(module: torch.nn.Module) -> bytes:
    """Serialise a module's state dict (torch.save into memory)."""
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    return buf.getvalue()


def state_from_bytes(data: bytes) -> dict[str, torch.Tensor]:
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _leaf_modules(model: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    return [(n, m) for n, m in model.named_modules()
            if not list(m.children()) and (list(m.parameters(recurse=False)) or list(m.buffers(recurse=False)))]


def _signature(m: torch.nn.Module) -> tuple[Any, ...]:
    return (type(m).__name__,) + tuple((k, tuple(v.shape)) for k, v in m.state_dict().items())


def transfer_weights(src_state: Mapping[str, torch.Tensor], src_model: torch.nn.Module,
                     dst_model: torch.nn.Module) -> int:
    """Copy weights into ``dst_model`` from a model of the same family that differs in one block.

    Stateful leaf modules are matched in emission order: the longest common prefix and the longest common
    suffix of (module type, tensor shapes) signatures are copied; the replaced block in between keeps its fresh
    initialisation. ``src_model`` gives the module structure of ``src_state``. Returns the modules copied.
    """
    src = _leaf_modules(src_model)
    dst = _leaf_modules(dst_model)
    sig_s = [_signature(m) for _, m in src]
    sig_d = [_signature(m) for _, m in dst]
    pre = 0
    while pre < min(len(src), len(dst)) and sig_s[pre] == sig_d[pre]:
        pre += 1
    suf = 0
    while suf < min(len(src), len(dst)) - pre and sig_s[-1 - suf] == sig_d[-1 - suf]:
        suf += 1
    pairs = list(zip(range(pre), range(pre))) + [(len(src) - 1 - s, len(dst) - 1 - s) for s in range(suf)]
    for si, di in pairs:
        sname, _ = src[si]
        _, dmod = dst[di]
        sub = {k: src_state[f"{sname}.{k}" if sname else k] for k in dmod.state_dict()}
        dmod.load_state_dict(sub)
    return len(pairs)


@contextlib.contextmanager
def torch_worker(threads: int = 1) -> Iterator[None]:
    """Deterministic torch settings for one evaluation: ``threads`` intra-op threads and deterministic
    algorithms; the previous settings come back afterwards."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def build_model(space: SearchSpace, arch: Arch, seed: int, num_classes: int, input_size: int) -> torch.nn.Module:
    """``space.to_torch(arch)`` with its initial weights drawn from ``seed`` only (the global torch RNG state is
    forked and restored around the construction)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return space.to_torch(arch, num_classes=num_classes, input_size=input_size)
