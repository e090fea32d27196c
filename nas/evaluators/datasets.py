"""Offline image-classification datasets for the ``train`` and ``zero-cost`` evaluators.

* ``digits``: scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes), bilinearly resized to the space's
  input size and repeated over 3 channels; a seeded 80/20 split.
* ``synthetic``: a seeded learnable set: each class is a random smooth prototype image; samples are prototypes
  with random shifts and Gaussian noise.
* ``cifar10``: CIFAR-10 from a local directory in the standard python-pickle format (``data_batch_1`` ..
  ``data_batch_5``, ``test_batch``, ``batches.meta``), resized when the input size is not 32.

All images are float32 tensors ``(N, 3, S, S)`` normalised per channel to zero mean / unit variance over the
training split; labels are int64 ``(N,)``.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hwsim.errors import HwnasError

DATASETS = ("digits", "synthetic", "cifar10")
CIFAR_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch", "batches.meta")


class DatasetError(HwnasError):
    """Unknown dataset, missing or malformed dataset files."""


@dataclass(frozen=True)
class DatasetSpec:
    """Which data to use. ``input_size``: image side in pixels; ``root``: CIFAR-10 directory (cifar10 only);
    ``max_train`` / ``max_test``: optional caps on the split sizes (first samples of the seeded order);
    ``seed``: split/synthesis seed (independent of the per-SSBN training seed)."""

    name: str = "digits"
    input_size: int = 32
    root: str | None = None
    max_train: int | None = None
    max_test: int | None = None
    seed: int = 0
    num_samples: int = 2000

    def __post_init__(self) -> None:
        if self.name not in DATASETS:
            raise DatasetError(f"unknown dataset {self.name!r}; expected one of {', '.join(DATASETS)}")
        for fld in ("input_size", "num_samples"):
            v = getattr(self, fld)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise DatasetError(f"dataset.{fld} must be a positive integer, got {v!r}")
        for fld in ("max_train", "max_test"):
            v = getattr(self, fld)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
                raise DatasetError(f"dataset.{fld} must be a positive integer or None, got {v!r}")
        if self.name == "cifar10" and not self.root:
            raise DatasetError("dataset cifar10 needs a directory (--data-dir) holding data_batch_1..5, "
                               "test_batch and batches.meta")

    @property
    def num_classes(self) -> int:
        return 10

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "input_size": self.input_size, "root": self.root, "max_train": self.max_train,
                "max_test": self.max_test, "seed": self.seed, "num_samples": self.num_samples}


@dataclass(frozen=True)
class Dataset:
    """Train/test tensors: ``x_*`` float32 ``(N, 3, S, S)``, ``y_*`` int64 ``(N,)``."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size and x.shape[-2] == size:
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def _normalise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = train.mean(dim=(0, 2, 3), keepdim=True)
    std = train.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return (train - mean) / std, (test - mean) / std


def _split(n: int, seed: int, test_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_fraction)))
    return order[n_test:], order[:n_test]


def _cap(idx: np.ndarray, cap: int | None) -> np.ndarray:
    return idx if cap is None else idx[:cap]


def _digits(spec: DatasetSpec) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.from_numpy(np.asarray(d.images, dtype=np.float32) / 16.0).unsqueeze(1)  # (N, 1, 8, 8)
    x = _resize(x, spec.input_size).repeat(1, 3, 1, 1)
    y = torch.from_numpy(np.asarray(d.target, dtype=np.int64))
    tr, te = _split(len(y), spec.seed)
    tr, te = _cap(tr, spec.max_train), _cap(te, spec.max_test)
    xtr, xte = _normalise(x[tr], x[te])
    return Dataset(xtr.contiguous(), y[tr], xte.contiguous(), y[te], 10)


def _synthetic(spec: DatasetSpec) -> Dataset:
    rng = np.random.default_rng(spec.seed)
    s, n, k = spec.input_size, spec.num_samples, 10
    coarse = rng.standard_normal((k, 3, 4, 4)).astype(np.float32)
    protos = _resize(torch.from_numpy(coarse), s)  # smooth class prototypes (k, 3, s, s)
    labels = rng.integers(0, k, size=n)
    shifts = rng.integers(-2, 3, size=(n, 2))
    noise = rng.standard_normal((n, 3, s, s)).astype(np.float32) * 0.8
    x = np.empty((n, 3, s, s), dtype=np.float32)
    p = protos.numpy()
    for i in range(n):
        x[i] = np.roll(p[labels[i]], shift=(int(shifts[i, 0]), int(shifts[i, 1])), axis=(1, 2)) + noise[i]
    xt = torch.from_numpy(x)
    y = torch.from_numpy(labels.astype(np.int64))
    tr, te = _split(n, spec.seed + 1)
    tr, te = _cap(tr, spec.max_train), _cap(te, spec.max_test)
    xtr, xte = _normalise(xt[tr], xt[te])
    return Dataset(xtr.contiguous(), y[tr], xte.contiguous(), y[te], k)


def _unpickle(path: Path) -> dict[bytes, object]:
    try:
        with open(path, "rb") as fh:
            d = pickle.load(fh, encoding="bytes")
    except (OSError, pickle.UnpicklingError, EOFError) as e:
        raise DatasetError(f"{path}: cannot read CIFAR-10 batch: {e}") from None
    if not isinstance(d, dict):
        raise DatasetError(f"{path}: not a CIFAR-10 python-pickle batch (expected a dict)")
    return d


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    d = _unpickle(path)
    data, labels = d.get(b"data"), d.get(b"labels")
    if data is None or labels is None:
        raise DatasetError(f"{path}: missing field b'data' or b'labels'")
    arr = np.asarray(data, dtype=np.uint8)
    if arr.ndim != 2 or arr.shape[1] != 3072:
        raise DatasetError(f"{path}: field b'data' must be N x 3072 uint8, got shape {arr.shape}")
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != (arr.shape[0],) or (lab.size and (lab.min() < 0 or lab.max() > 9)):
        raise DatasetError(f"{path}: field b'labels' must hold {arr.shape[0]} labels in 0..9")
    return arr.reshape(-1, 3, 32, 32), lab


def check_cifar10_dir(root: str | Path) -> Path:
    """``root`` as a Path when it holds the CIFAR-10 python-pickle files, else a one-line :class:`DatasetError`."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"CIFAR-10 directory {str(root)!r} does not exist (expected data_batch_1..5, "
                           f"test_batch, batches.meta in the python-pickle format)")
    missing = [f for f in CIFAR_FILES if not (root / f).is_file()]
    if missing:
        raise DatasetError(f"CIFAR-10 directory {str(root)!r} lacks {', '.join(missing)}")
    return root


def _cifar10(spec: DatasetSpec) -> Dataset:
    root = check_cifar10_dir(spec.root or "")
    meta = _unpickle(root / "batches.meta")
    names = meta.get(b"label_names")
    if names is not None and len(names) != 10:  # type: ignore[arg-type]
        raise DatasetError(f"{root / 'batches.meta'}: label_names must list 10 classes")
    parts = [_cifar_batch(root / f"data_batch_{i}") for i in range(1, 6)]
    xtr = np.concatenate([p[0] for p in parts])
    ytr = np.concatenate([p[1] for p in parts])
    xte, yte = _cifar_batch(root / "test_batch")
    rng = np.random.default_rng(spec.seed)
    tr = _cap(rng.permutation(len(ytr)), spec.max_train)
    te = _cap(np.arange(len(yte)), spec.max_test)
    to_t = lambda a: _resize(torch.from_numpy(a.astype(np.float32) / 255.0), spec.input_size)  # noqa: E731
    x_train, x_test = _normalise(to_t(xtr[tr]), to_t(xte[te]))
    return Dataset(x_train.contiguous(), torch.from_numpy(ytr[tr]), x_test.contiguous(), torch.from_numpy(yte[te]),
                   10)


def load_dataset(spec: DatasetSpec) -> Dataset:
    """Materialise ``spec`` (deterministic for a given spec)."""
    if spec.name == "digits":
        return _digits(spec)
    if spec.name == "synthetic":
        return _synthetic(spec)
    return _cifar10(spec)

