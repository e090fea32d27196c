from __future__ import annotations

from pathlib import Path

import pytest

from calibration.measurements import (
    KernelTime,
    Measurement,
    MeasurementError,
    load_measurements,
    write_measurements,
)
from calibration.workloads import WorkloadResolver

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def write(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_roundtrip_with_kernels(tmp_path: Path) -> None:
    ms = [Measurement("a", "board", 12.5, space="nb201", arch=ARCH, latency_std_ms=0.2, repeats=30,
                      conditions="threads=1", kernels=(KernelTime("conv", 1.5, "layer0", ("conv",)),)),
          Measurement("b", "board", 3.25, model="resnet18", input_size=64)]
    write_measurements(tmp_path / "m.csv", ms, tmp_path / "k.csv")
    back = load_measurements(tmp_path / "m.csv", tmp_path / "k.csv")
    assert [m.id for m in back] == ["a", "b"]
    assert back[0] == ms[0]
    assert back[1] == ms[1]
    assert back[0].source.endswith("m.csv:2")


def test_json_roundtrip(tmp_path: Path) -> None:
    ms = [Measurement("a", "board", 1.0, space="nb201", arch=ARCH, kernels=(KernelTime("k", 0.5, "layer1"),))]
    write_measurements(tmp_path / "m.json", ms)
    assert list(load_measurements(tmp_path / "m.json")) == ms


@pytest.mark.parametrize("text, needle", [
    ("id,device,space,arch\na,b,nb201,x\n", "m.csv:1: missing required column 'latency_ms'"),
    ("id,device,latency_ms\na,b,1\n", "m.csv:1: missing workload columns"),
    ("id,device,latency_ms,model,speed\n", "m.csv:1: unknown column 'speed'"),
    ("id,device,latency_ms,model\na,b,nan,resnet18\n", "m.csv:2: field 'latency_ms' must be a finite latency"),
    ("id,device,latency_ms,model\na,b,1,resnet18\nc,b,0,resnet18\n", "m.csv:3: field 'latency_ms' must be a finite"),
    ("id,device,latency_ms,model\na,b,-2,resnet18\n", "m.csv:2: field 'latency_ms'"),
    ("id,device,latency_ms,model\na,b,fast,resnet18\n", "m.csv:2: field 'latency_ms' is not a number: 'fast'"),
    ("id,device,latency_ms,model\na,b,1,resnet18,extra\n", "m.csv:2: malformed row: 5 fields, header has 4"),
    ("id,device,latency_ms,model\na,,1,resnet18\n", "m.csv:2: missing value for required field 'device'"),
    ("id,device,latency_ms,model\na,b,1,resnet18\na,b,2,resnet18\n", "m.csv:3: duplicate id 'a'"),
    ("id,device,latency_ms,model,repeats\na,b,1,resnet18,0\n", "m.csv:2: field 'repeats' must be an integer >= 1"),
    ("id,device,latency_ms,space,arch\na,b,1,nb201,\n", "m.csv:2: 'space' and 'arch' go together"),
    ("", "m.csv: empty file"),
])
def test_bad_csv_one_line_error(tmp_path: Path, text: str, needle: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(MeasurementError) as err:
        load_measurements(p)
    msg = str(err.value)
    assert needle in msg
    assert "\n" not in msg


def test_unknown_arch_names_file_and_line(tmp_path: Path) -> None:
    bad = ARCH.replace("nor_conv_3x3~0|+", "conv_9x9~0|+", 1)
    p = write(tmp_path, f"id,device,latency_ms,space,arch\na,b,1,nb201,{ARCH}\nc,b,2,nb201,{bad}\n")
    ms = load_measurements(p)
    with pytest.raises(MeasurementError) as err:
        WorkloadResolver(tmp_path).validate(ms)
    assert "m.csv:3: unknown arch" in str(err.value) and "conv_9x9" in str(err.value)


def test_unknown_space_and_model(tmp_path: Path) -> None:
    p = write(tmp_path, "id,device,latency_ms,space,arch\na,b,1,nope,x\n")
    with pytest.raises(MeasurementError, match=r"m.csv:2: field 'space'"):
        WorkloadResolver().validate(load_measurements(p))
    p = write(tmp_path, "id,device,latency_ms,model\na,b,1,resnet999\n")
    with pytest.raises(MeasurementError, match=r"m.csv:2: field 'model'"):
        WorkloadResolver().validate(load_measurements(p))


def test_bad_kernel_rows(tmp_path: Path) -> None:
    m = write(tmp_path, "id,device,latency_ms,model\na,b,1,resnet18\n")
    k = write(tmp_path, "id,kernel,latency_ms\na,conv1,-1\n", "k.csv")
    with pytest.raises(MeasurementError, match=r"k.csv:2: field 'latency_ms'"):
        load_measurements(m, k)
    k = write(tmp_path, "id,kernel,latency_ms\nzz,conv1,1\n", "k.csv")
    with pytest.raises(MeasurementError, match="unknown measurement id 'zz'"):
        load_measurements(m, k)


def test_bad_json(tmp_path: Path) -> None:
    p = write(tmp_path, '{"format": "hwnas.measurements", "version": 1, "measurements": [{"id": "a", "device": "b", '
                        '"latency_ms": -1, "model": "resnet18"}]}', "m.json")
    with pytest.raises(MeasurementError, match=r"m.json: measurements\[0\]: field 'latency_ms'"):
        load_measurements(p)
    p = write(tmp_path, '{"format": "hwnas.measurements",\n "version": 1,, }', "m.json")
    with pytest.raises(MeasurementError, match=r"m.json: invalid JSON at line 2"):
        load_measurements(p)


def test_workload_from_network_file(tmp_path: Path) -> None:
    from hwsim.workload import NetworkBuilder

    b = NetworkBuilder("tiny", (3, 8, 8))
    net = b.build([b.relu(b.conv(b.input, 4, 3, padding=1))])
    (tmp_path / "net.json").write_text(net.to_json())
    p = write(tmp_path, "id,device,latency_ms,network\na,b,1,net.json\nc,b,1,missing.json\n")
    ms = load_measurements(p)
    r = WorkloadResolver(tmp_path)
    assert r.workload(ms[0]) == net
    with pytest.raises(MeasurementError, match="m.csv:3: field 'network'"):
        r.workload(ms[1])
