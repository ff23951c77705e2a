"""Tests of the cnnzoo.analysis package as a whole: side effects, bad input, its own code."""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch
import torchvision
from torch import nn

from cnnzoo import analysis
from cnnzoo.analysis import count_macs, count_params, receptive_field, summary
from cnnzoo.errors import AnalysisError
from tests.analysis.helpers import LeNet5

# ----------------------------------------------------------------------------- side effects


def _hooks(model: nn.Module) -> list[object]:
    found: list[object] = []
    for module in model.modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks"):
            found += list(getattr(module, attr).values())
    found += list(torch.nn.modules.module._global_forward_hooks.values())
    found += list(torch.nn.modules.module._global_forward_pre_hooks.values())
    return found


@pytest.mark.parametrize("run", ["count_macs", "summary", "receptive_field"])
def test_no_side_effects(run: str) -> None:
    model = torchvision.models.resnet18(weights=None)
    model.train()
    model.layer2.eval()  # a frozen stage must stay frozen, the rest training
    flags = {name: module.training for name, module in model.named_modules()}
    state = {key: value.clone() for key, value in model.state_dict().items()}

    getattr(analysis, run)(model, (3, 64, 64))

    assert {name: module.training for name, module in model.named_modules()} == flags
    assert _hooks(model) == []
    assert all(param.grad is None for param in model.parameters())
    # Eval mode during the pass: batch-norm running statistics did not move.
    after = model.state_dict()
    assert all(torch.equal(state[key], after[key]) for key in state)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("run", ["count_macs", "summary", "receptive_field"])
def test_wrong_channel_count_is_a_clear_value_error(run: str, resnet18: nn.Module) -> None:
    training = resnet18.training
    with pytest.raises(ValueError) as info:
        getattr(analysis, run)(resnet18, (2, 64, 64))
    message = str(info.value)
    assert "expected input shape is (3, 64, 64)" in message
    assert "given shape is (2, 64, 64)" in message
    assert "conv1" in message
    assert _hooks(resnet18) == []
    assert resnet18.training == training


def test_wrong_spatial_size_names_the_layer() -> None:
    with pytest.raises(ValueError, match=r"'fc1' \(Linear\) expects 400 input features") as info:
        summary(LeNet5(), (1, 28, 28))
    assert "(256,)" in str(info.value)  # 16 x 4 x 4 after the convolutions


@pytest.mark.parametrize(
    ("size", "batch"),
    [((3, 0, 8), 1), ("3x224x224", 1), ((3, 8.0, 8), 1), ((), 1), ((3, 8, 8), 0)],
)
def test_malformed_input_size(size: object, batch: int) -> None:
    with pytest.raises(ValueError):
        count_macs(nn.Conv2d(3, 1, 1), size, batch_size=batch)  # type: ignore[arg-type]


def test_tensor_input_is_used_as_given() -> None:
    x = torch.zeros(2, 3, 10, 10)
    conv = nn.Conv2d(3, 8, 3)
    assert count_macs(conv, x) == 2 * count_macs(conv, (3, 10, 10))
    assert summary(conv, x).input_size == (3, 10, 10)
    with pytest.raises(ValueError, match="batch_size"):
        count_macs(conv, x, batch_size=2)



BAD_CALLS = {
    # name: (call, what the message must say)
    "depth": (lambda: summary(nn.ReLU(), (1, 4, 4), depth=0), "depth must be None"),
    "batch": (lambda: count_macs(nn.ReLU(), (1, 4, 4), batch_size=0), "batch_size must be"),
    "tensor-batch": (
        lambda: count_macs(nn.ReLU(), torch.zeros(1, 1, 4, 4), batch_size=2),
        "pass a tensor holding the batch you want",
    ),
    "text-size": (lambda: summary(nn.ReLU(), "3x8x8"), "such as (3, 224, 224)"),  # type: ignore[arg-type]
    "lazy": (lambda: count_params(nn.LazyLinear(2)), "run one forward pass before counting"),
    "channels": (
        lambda: receptive_field(nn.Conv2d(3, 1, 1), (1, 8, 8)),
        "expected input shape is (3, 8, 8)",
    ),
    "spatial-size": (lambda: summary(LeNet5(), (1, 28, 28)), "'fc1' (Linear) expects 400"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input_is_an_analysis_error_that_says_what_to_do(case: str) -> None:
    call, says = BAD_CALLS[case]
    with pytest.raises(AnalysisError) as info:
        call()
    assert isinstance(info.value, ValueError)  # ``except ValueError`` keeps working
    assert says in str(info.value)


def test_a_failing_root_module_is_named_as_the_model() -> None:
    class Picky(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.shape[-1] != 32:
                raise ValueError("Picky takes 32 x 32 images")
            return x

    with pytest.raises(AnalysisError, match=r"the model itself \(Picky\) failed") as info:
        summary(Picky(), (1, 8, 8))
    assert "Picky takes 32 x 32 images" in str(info.value)

# ----------------------------------------------------------------------------- the package itself


def _modules() -> list[ModuleType]:
    """cnnzoo.analysis and every module inside it."""
    prefix = analysis.__name__ + "."
    names = [info.name for info in pkgutil.walk_packages(analysis.__path__, prefix)]
    return [analysis, *(importlib.import_module(name) for name in sorted(names))]


# The only modules of cnnzoo the analysis package may import: its own, and the bottom
# layers every package may use.
OWN = ("cnnzoo.analysis", "cnnzoo.errors", "cnnzoo._utils")


def test_package_imports_only_torch_the_standard_library_and_the_bottom_layers() -> None:
    modules = _modules()
    assert len(modules) > 1  # the package really is split into modules
    roots = set()
    for module in modules:
        assert module.__file__ is not None
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            own = [name for name in names if name.split(".")[0] == "cnnzoo"]
            for name in own:
                assert any(name == o or name.startswith(o + ".") for o in OWN), (
                    f"{module.__name__} imports {name}"
                )
            roots |= {name.split(".")[0] for name in names if name not in own}
    assert roots - {"torch", "__future__"} <= set(sys.stdlib_module_names)
    assert "torch" in roots


def test_docstring_examples() -> None:
    results = [doctest.testmod(m, optionflags=doctest.NORMALIZE_WHITESPACE) for m in _modules()]
    result = doctest.TestResults(sum(r.failed for r in results), sum(r.attempted for r in results))
    assert result.attempted >= 10
    assert result.failed == 0
