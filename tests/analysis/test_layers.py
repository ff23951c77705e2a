"""Tests of cnnzoo.analysis.summary (the per-layer table) against hand-computed references."""

from __future__ import annotations

import json

import pytest
import torchvision
from torch import nn

from cnnzoo.analysis import count_macs, count_params, summary
from tests.analysis.helpers import LeNet5, on_meta


def test_lenet5_layer_table() -> None:
    table = summary(LeNet5(), (1, 32, 32))
    rows = {row.name: row for row in table.rows}

    assert table.total_params == 61_706
    assert table.trainable_params == 61_706
    assert table.input_size == (1, 32, 32)
    shapes = {
        "conv1": (6, 28, 28),
        "pool1": (6, 14, 14),
        "conv2": (16, 10, 10),
        "pool2": (16, 5, 5),
        "flatten": (400,),
        "fc1": (120,),
        "fc2": (84,),
        "fc3": (10,),
    }
    assert {name: rows[name].output_shape for name in shapes} == shapes
    # MACs = outputs x taps: 6*28*28 * 1*5*5, 16*10*10 * 6*5*5, 400*120, 120*84, 84*10.
    macs = {"conv1": 117_600, "conv2": 240_000, "fc1": 48_000, "fc2": 10_080, "fc3": 840}
    assert {name: rows[name].macs for name in macs} == macs
    assert all(rows[name].macs == 0 for name in ("act1", "pool1", "act2", "pool2", "flatten"))
    assert table.total_macs == sum(macs.values()) == 416_520
    assert [row.params for row in table.rows if row.params] == [156, 2_416, 48_120, 10_164, 850]

    # r_out = r_in + (k - 1) * j_in, j_out = j_in * s:
    # conv1 1 + 4*1 = 5 (j 1); pool1 5 + 1*1 = 6 (j 2); conv2 6 + 4*2 = 14 (j 2);
    # pool2 14 + 1*2 = 16 (j 4).
    fields = {name: (rows[name].receptive_field, rows[name].stride) for name in shapes}
    assert fields["conv1"] == (5, 1)
    assert fields["pool1"] == (6, 2)
    assert fields["conv2"] == (14, 2)
    assert fields["pool2"] == (16, 4)
    # Flattening is a reshape: every feature still sees one 16x16 window. fc1 mixes the
    # 5x5 positions: 16 + (5 - 1) * 4 = 32, the whole input.
    assert fields["flatten"] == (16, 4)
    assert [fields[name][0] for name in ("fc1", "fc2", "fc3")] == [32, 32, 32]


def test_summary_totals_agree_with_count_macs() -> None:
    model = on_meta(torchvision.models.resnet50)
    table = summary(model, (3, 224, 224))
    assert table.total_macs == count_macs(model, (3, 224, 224)) == 4_089_184_256
    assert table.total_params == count_params(model) == 25_557_032
    assert sum(row.params for row in table.rows) == table.total_params
    assert sum(row.macs for row in table.rows) == table.total_macs


def test_summary_depth_and_repeated_modules(resnet18: nn.Module) -> None:
    leaves = summary(resnet18, (3, 64, 64))
    names = [row.name for row in leaves.rows]
    # torchvision's BasicBlock calls its ReLU twice: two rows, the parameters once.
    assert (
        names.index("layer1.0.relu")
        < names.index("layer1.0.conv2")
        < names.index("layer1.0.relu#2")
    )
    assert all(
        "." in name or name in ("conv1", "bn1", "relu", "maxpool", "avgpool", "fc")
        for name in names
    )
    assert all(row.leaf for row in leaves.rows)
    assert sum(row.params for row in leaves.rows) == leaves.total_params == 11_689_512

    top = summary(resnet18, (3, 64, 64), depth=1)
    assert [row.name for row in top.rows] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc",
    ]  # fmt: skip
    assert all(row.leaf for row in top.rows)
    assert sum(row.macs for row in top.rows) == top.total_macs == leaves.total_macs
    rows = {row.name: row for row in top.rows}
    assert (rows["layer4"].receptive_field, rows["layer4"].stride) == (435, 32)
    assert rows["layer4"].output_shape == (512, 2, 2)

    two = summary(resnet18, (3, 64, 64), depth=2)
    rows = {row.name: row for row in two.rows}
    assert not rows["layer1"].leaf and rows["layer1.0"].leaf
    assert rows["layer1"].macs == rows["layer1.0"].macs + rows["layer1.1"].macs
    assert rows["layer1"].depth == 1 and rows["layer1.0"].depth == 2

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="depth"):
            summary(resnet18, (3, 64, 64), depth=bad)


def test_summary_to_dict_and_text() -> None:
    table = summary(LeNet5(), (1, 32, 32))
    data = json.loads(json.dumps(table.to_dict()))
    assert data["total_params"] == 61_706 and data["total_macs"] == 416_520
    assert data["input_size"] == [1, 32, 32]
    assert data["rows"][0] == {
        "name": "conv1",
        "type": "Conv2d",
        "depth": 1,
        "output_shape": [6, 28, 28],
        "params": 156,
        "macs": 117_600,
        "stride": 1,
        "receptive_field": 5,
        "leaf": True,
    }

    text = str(table)
    assert text == table.format()
    lines = text.splitlines()
    header = lines[0]
    assert header.split() == ["Layer", "Type", "Output", "shape", "Params", "MACs", "Stride", "RF"]
    body = lines[2 : 2 + len(table.rows)]
    # Left-aligned columns start where their header does; numbers end where it ends.
    for line, row in zip(body, table.rows, strict=True):
        assert line.index(row.type) == header.index("Type")
        shape = "(" + ", ".join(map(str, row.output_shape)) + ")"
        assert line.index(shape, header.index("Type")) == header.index("Output shape")
    conv2 = body[3]
    assert "2,416" in conv2 and "240.00K" in conv2
    assert conv2.index("2,416") + len("2,416") == header.index("Params") + len("Params")
    assert "Total params:         61,706" in text
    assert "Total MACs:           416,520 (416.52K)" in text

    big = str(summary(on_meta(torchvision.models.vgg16), (3, 224, 224)))
    assert "138,357,544" in big and "15,470,264,320 (15.47G)" in big
    assert "1.85G" in big  # features.2, the 64 -> 64 conv at 224 x 224
