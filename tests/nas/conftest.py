"""Fixtures of the nas tests: tiny BBSSP-style family spaces (TOML) and a tiny CIFAR-10 directory."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

TINY_SPACE = """
name = "{name}"
blocks = {blocks}
typical = "{typical}"
input_size = 8
num_classes = 10

[stem]
out_channels = 8
kernel = 3
stride = 1

[[layers]]
out_channels = 8
stride = 1

[[layers]]
out_channels = 16
stride = 2

[head]
conv_channels = 0
"""


def write_tiny_space(path: Path, name: str, blocks: list[str], typical: str) -> str:
    text = TINY_SPACE.format(name=name, blocks="[" + ", ".join(f'"{b}"' for b in blocks) + "]", typical=typical)
    path.write_text(text)
    return str(path)


@pytest.fixture
def tiny_families(tmp_path: Path) -> tuple[str, str]:
    """Two 2-layer families of 3 blocks (5 SSBNs each) as TOML space files."""
    a = write_tiny_space(tmp_path / "tiny_res.toml", "tiny-res", ["res0", "res1", "res3"], "res0")
    b = write_tiny_space(tmp_path / "tiny_vgg.toml", "tiny-vgg", ["vgg5", "vgg0", "vgg1"], "vgg5")
    return a, b


def write_cifar10_fixture(root: Path, per_batch: int = 12, test: int = 10, seed: int = 0) -> Path:
    """A tiny CIFAR-10 directory in the standard python-pickle format."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    def batch(n: int, label: str) -> dict[bytes, object]:
        return {b"batch_label": label.encode(), b"labels": [int(v) for v in rng.integers(0, 10, n)],
                b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                b"filenames": [f"img_{i}.png".encode() for i in range(n)]}

    for i in range(1, 6):
        with open(root / f"data_batch_{i}", "wb") as fh:
            pickle.dump(batch(per_batch, f"training batch {i} of 5"), fh)
    with open(root / "test_batch", "wb") as fh:
        pickle.dump(batch(test, "testing batch 1 of 1"), fh)
    with open(root / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [f"class{i}".encode() for i in range(10)], b"num_cases_per_batch": per_batch,
                     b"num_vis": 3072}, fh)
    return root
