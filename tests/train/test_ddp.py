"""The same ``fit`` under ``torchrun --nproc_per_node=2`` (DDP, gloo on CPU).

One script, run once as two processes under ``python -m torch.distributed.run`` and
once as a single process: both ranks must end with bitwise identical weights (and
BatchNorm buffers), report the same metrics, only rank 0 may write the checkpoint,
and the accuracy must be close to the single-process run's. The model has BatchNorm
and a :class:`~cnnzoo.transfer.ProgressiveUnfreezing` callback, so re-wrapping the
model after unfreezing is exercised too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

SCRIPT = textwrap.dedent('''
    import json, os, sys
    import torch
    from safetensors.torch import save_file
    import cnnzoo
    from cnnzoo.data import digits
    from cnnzoo.train import fit
    from cnnzoo.train.transfer import ProgressiveUnfreezing

    torch.set_num_threads(1)
    out = sys.argv[1]
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    torch.manual_seed(rank * 1000)  # DDP must broadcast rank 0's initial weights
    model = cnnzoo.create("tinynet", in_chans=1)
    split = digits((1, 32, 32), model=model)
    history = fit(model, split.train, split.test, epochs=5, lr=1e-2, seed=0,
                  batch_size=32 // world,  # the same global batch as one process
                  callbacks=[ProgressiveUnfreezing(milestones=(1, 2))],
                  checkpoint_dir=os.path.join(out, "best"))
    tag = f"{rank}-of-{world}"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              os.path.join(out, f"weights-{tag}.safetensors"))
    with open(os.path.join(out, f"history-{tag}.json"), "w") as f:
        json.dump(history.to_dict(), f)
''')


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    return env


@pytest.mark.slow
def test_torchrun_two_processes_agree_with_one(tmp_path: Path) -> None:
    pytest.importorskip("cnnzoo_plugin_example")
    script = tmp_path / "train_digits.py"
    script.write_text(SCRIPT)
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    ddp.mkdir()
    single.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(script), str(ddp)],
        env=_env(), capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    proc = subprocess.run([sys.executable, str(script), str(single)], env=_env(),
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]

    rank0 = load_file(str(ddp / "weights-0-of-2.safetensors"))
    rank1 = load_file(str(ddp / "weights-1-of-2.safetensors"))
    assert set(rank0) == set(rank1)
    different = [k for k in rank0 if not torch.equal(rank0[k], rank1[k])]
    assert not different, f"ranks disagree on {different}"
    assert any("running_mean" in k for k in rank0)  # BatchNorm buffers are compared too

    h0 = json.loads((ddp / "history-0-of-2.json").read_text())
    h1 = json.loads((ddp / "history-1-of-2.json").read_text())
    hs = json.loads((single / "history-0-of-1.json").read_text())
    assert h0["epochs"] == [{**row, "seconds": h0["epochs"][i]["seconds"]}
                            for i, row in enumerate(h1["epochs"])]  # metrics reduced alike
    ddp_acc, single_acc = h0["epochs"][-1]["val_accuracy"], hs["epochs"][-1]["val_accuracy"]
    assert single_acc > 0.9
    assert abs(ddp_acc - single_acc) <= 0.03, (ddp_acc, single_acc)
    # only rank 0 wrote the checkpoint, and it holds the best epoch
    best = ddp / "best"
    assert sorted(p.name for p in best.iterdir()) == ["README.md", "config.json",
                                                     "model.safetensors"]
    assert h0["best_checkpoint"] == str(best)
