"""The Perlmutter SLURM templates: valid bash, and in dry-run mode the exact commands they run."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLURM = ROOT / "slurm"
TEMPLATES = sorted(SLURM.glob("*.sh"))


def _dry_run(script: str, *args: str, **env: str) -> list[list[str]]:
    """Run a template with OMNILEARN_DRY_RUN=1 outside SLURM; the printed commands, split."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    for name in (
        "NODES",
        "ACCOUNT",
        "QOS",
        "WALLTIME",
        "DATA_DIR",
        "OUTDIR",
        "RUNS_DIR",
        "EVAL_ARGS",
        "TASK",
        "EPOCH",
        "WD",
        "OMNILEARN_ENV",
        "SHIFTER_IMAGE",
        "PRETRAINED",
        "DATASET",
        "SAMPLES_DIR",
        "RESULTS_DIR",
        "PLOTS_DIR",
        "SAMPLE_ARGS",
        "FROM_SCRATCH",
        "N_SIG",
        "SEEDS",
        "EVAL_RUNS",
    ):
        clean.pop(name, None)
    out = subprocess.run(
        ["bash", str(SLURM / script), *args],
        env={**clean, "OMNILEARN_DRY_RUN": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert out.returncode == 0, out.stderr
    return [shlex.split(line) for line in out.stdout.splitlines() if line and not line.startswith("#")]


def _command(lines: list[list[str]], program: str) -> list[str]:
    found = [line for line in lines if line[0] == program]
    assert len(found) == 1, (program, lines)
    return found[0]


def _flag(cmd: list[str], name: str) -> str:
    """The value of ``name`` (last occurrence wins, as in argparse)."""
    values = [cmd[i + 1] for i, word in enumerate(cmd[:-1]) if word == name]
    values += [word.split("=", 1)[1] for word in cmd if word.startswith(name + "=")]
    assert values, (name, cmd)
    return values[-1]


def _omnilearn(line: list[str]) -> list[str]:
    """The ``python -m omnilearn COMMAND ...`` part of a line: from COMMAND on."""
    i = next(i for i in range(len(line) - 1) if line[i : i + 2] == ["-m", "omnilearn"])
    return line[i + 2 :]


def _commands(lines: list[list[str]]) -> list[str]:
    """The omnilearn command of each srun line, in order."""
    return [_omnilearn(line)[0] for line in lines if line[0] == "srun"]


def test_templates_exist():
    assert {p.name for p in TEMPLATES} >= {"pretrain.sh", "finetune.sh", "jetnet.sh", "lhco.sh", "common.sh"}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_bash_syntax(path):
    out = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_pretrain_dry_run_is_the_papers_run():
    lines = _dry_run("pretrain.sh")
    sbatch = _command(lines, "sbatch")
    assert "-C" in sbatch and _flag(sbatch, "-C") == "gpu"
    assert _flag(sbatch, "-N") == "32"  # 32 nodes x 4 GPUs = 128 GPUs
    assert _flag(sbatch, "--ntasks-per-node") == "4" and _flag(sbatch, "--gpus-per-task") == "1"
    assert "--requeue" in sbatch and _flag(sbatch, "--signal").startswith("B:USR1@")
    assert sbatch[-1] == str(SLURM / "pretrain.sh")

    srun = _command(lines, "srun")
    train = _omnilearn(srun)
    assert train[0] == "train" and "--outdir" not in train  # the rule: <runs_dir>/pretrain
    assert _flag(srun, "--ntasks-per-node") == "4" and _flag(srun, "--gpus-per-task") == "1"
    expected = {
        "--dataset": "jetclass",
        "--mode": "all",
        "--batch": "256",
        "--epoch": "200",
        "--warm_epoch": "3",
        "--lr": "3e-5",
        "--lr_min": "1e-6",
        "--wd": "1e-5",
        "--runs_dir": str(ROOT / "runs"),
    }
    assert {k: _flag(train, k) for k in expected} == expected
    assert ["module", "load", "tensorflow"] in lines
    # OUTDIR puts the checkpoints elsewhere
    assert _flag(_command(_dry_run("pretrain.sh", OUTDIR="/scratch/trial"), "srun"), "--outdir") == "/scratch/trial"


def test_pretrain_variables_and_extra_arguments():
    lines = _dry_run("pretrain.sh", "--epoch", "2", NODES="2", ACCOUNT="m0000", QOS="debug", WALLTIME="00:30:00")
    sbatch = _command(lines, "sbatch")
    assert (_flag(sbatch, "-N"), _flag(sbatch, "-A"), _flag(sbatch, "-q"), _flag(sbatch, "-t")) == (
        "2",
        "m0000",
        "debug",
        "00:30:00",
    )
    srun = _command(lines, "srun")
    assert _flag(srun, "-N") == "2"
    assert _flag(srun, "--epoch") == "2"  # extra arguments come last and override
    assert "-A" not in _command(_dry_run("pretrain.sh"), "sbatch")  # default project


def _train_command(lines: list[list[str]]) -> list[str]:
    """The srun line of the training step (the evaluation has its own)."""
    found = [line for line in lines if line[0] == "srun" and _omnilearn(line)[0] in ("train", "finetune", "omnifold")]
    assert len(found) == 1, lines
    return found[0]


def test_finetune_dry_run():
    lines = _dry_run("finetune.sh", "cms")
    srun = _train_command(lines)
    assert _flag(srun, "--ntasks-per-node") == "4" and _flag(srun, "--gpus-per-task") == "1"
    train = _omnilearn(srun)
    assert train[0] == "finetune" and _flag(train, "--dataset") == "cms" and "--fine_tune" in train
    assert _flag(train, "--pretrained") == str(ROOT / "runs" / "pretrain" / "best")
    assert _flag(train, "--runs_dir") == str(ROOT / "runs")  # the rule: runs/cms_omnilearn
    assert _command(lines, "sbatch")[-1:] == ["cms"]  # the task travels to the job as an argument

    scratch = _train_command(_dry_run("finetune.sh", "top", FROM_SCRATCH="1"))
    assert "--fine_tune" not in scratch and "--pretrained" not in scratch
    # the task may also come from the environment; extra arguments come last
    env_srun = _train_command(_dry_run("finetune.sh", "--epoch", "3", TASK="top"))
    assert _flag(env_srun, "--dataset") == "top" and _flag(env_srun, "--epoch") == "3"


def test_finetune_evaluates_the_run_it_trained():
    lines = _dry_run("finetune.sh", "top")
    assert _commands(lines) == ["finetune", "evaluate"]
    evaluate = next(line for line in lines if line[0] == "srun" and _omnilearn(line)[0] == "evaluate")
    assert _flag(evaluate, "-n") == "1"
    assert _flag(evaluate, "--dataset") == "top" and _flag(evaluate, "--runs") == "omnilearn"
    assert _flag(evaluate, "--runs_dir") == str(ROOT / "runs")
    scratch = _dry_run("finetune.sh", "top", FROM_SCRATCH="1")
    assert _flag(next(line for line in scratch if "evaluate" in line), "--runs") == "scratch"


def test_omnifold_dry_run_trains_five_iterations_and_evaluates():
    lines = _dry_run("omnifold.sh")
    assert _commands(lines) == ["omnifold", "omnifold-evaluate"]
    srun = _train_command(lines)
    assert _flag(srun, "--ntasks-per-node") == "4" and _flag(srun, "--gpus-per-task") == "1"
    train = _omnilearn(srun)
    assert _flag(train, "--dataset") == "omnifold" and _flag(train, "--num_iter") == "5" and "--fine_tune" in train
    assert _flag(train, "--pretrained") == str(ROOT / "runs" / "pretrain" / "best")
    evaluate = next(line for line in lines if line[0] == "srun" and _omnilearn(line)[0] == "omnifold-evaluate")
    assert _flag(evaluate, "-n") == "1" and _flag(evaluate, "--runs") == "omnilearn"
    assert _flag(evaluate, "--plot_dir") == str(ROOT / "plots" / "omnifold")
    assert _command(lines, "sbatch")[-1:] == ["omnifold"]

    scratch = _dry_run(
        "omnifold.sh", "omnifold_pythia", "--epoch", "3", FROM_SCRATCH="1", EVAL_RUNS="omnilearn scratch"
    )
    train = _omnilearn(_train_command(scratch))
    assert _flag(train, "--dataset") == "omnifold_pythia" and _flag(train, "--epoch") == "3"
    assert "--fine_tune" not in train and "--pretrained" not in train
    evaluate = _omnilearn(next(line for line in scratch if "omnifold-evaluate" in line))
    assert evaluate[evaluate.index("--runs") + 1 : evaluate.index("--runs") + 3] == ["omnilearn", "scratch"]


def test_omnifold_rejects_an_unknown_dataset():
    out = subprocess.run(
        ["bash", str(SLURM / "omnifold.sh"), "top"],
        env={**os.environ, "OMNILEARN_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "omnifold or omnifold_pythia" in out.stderr


def test_jetnet_dry_run_trains_samples_and_evaluates(tmp_path):
    lines = _dry_run("jetnet.sh", "jetnet150", "--epoch", "7", SAMPLES_DIR=str(tmp_path))
    assert _command(lines, "sbatch")[-3:] == ["jetnet150", "--epoch", "7"]
    assert _commands(lines) == ["finetune", "sample", "sample", "evaluate"]
    train, plain, ideal, evaluate = (line for line in lines if line[0] == "srun")
    assert _flag(train, "--ntasks-per-node") == "4" and _flag(train, "--epoch") == "7"
    assert _flag(train, "--dataset") == "jetnet150" and "--fine_tune" in train
    assert _flag(train, "--pretrained") == str(ROOT / "runs" / "pretrain" / "best")
    assert _flag(plain, "-n") == "1" and "--ideal" not in plain and "--ideal" in ideal
    # the rule: runs/jetnet150_omnilearn → <SAMPLES_DIR>/jetnet150_omnilearn[_ideal]
    for line in (plain, ideal):
        assert (_flag(line, "--run"), _flag(line, "--runs_dir")) == ("omnilearn", str(ROOT / "runs"))
        assert _flag(line, "--samples_dir") == str(tmp_path)
    # evaluate finds every sample folder of the dataset under SAMPLES_DIR itself
    assert _flag(evaluate, "--dataset") == "jetnet150" and _flag(evaluate, "--samples_dir") == str(tmp_path)
    # where docs/results.md reads them (omnilearn report --page_only)
    assert (_flag(evaluate, "--results_dir"), _flag(evaluate, "--plot_dir")) == (
        str(ROOT / "plots" / "jetnet"),
        str(ROOT / "plots" / "jetnet"),
    )

    scratch = [
        line
        for line in _dry_run("jetnet.sh", FROM_SCRATCH="1", DATASET="jetnet30", SAMPLES_DIR=str(tmp_path))
        if line[0] == "srun"
    ]
    assert "--fine_tune" not in scratch[0] and "--pretrained" not in scratch[0]
    assert _flag(scratch[1], "--run") == "scratch" and _flag(scratch[1], "--dataset") == "jetnet30"


def test_jetnet_rejects_an_unknown_dataset():
    out = subprocess.run(
        ["bash", str(SLURM / "jetnet.sh"), "top"],
        env={**os.environ, "OMNILEARN_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "jetnet30 or jetnet150" in out.stderr


def test_finetune_needs_a_task():
    out = subprocess.run(
        ["bash", str(SLURM / "finetune.sh")],
        env={**os.environ, "OMNILEARN_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "usage" in out.stderr


def test_shifter_environment():
    lines = _dry_run("pretrain.sh", OMNILEARN_ENV="shifter", SHIFTER_IMAGE="registry/omnilearn:1")
    sbatch, srun = _command(lines, "sbatch"), _command(lines, "srun")
    assert _flag(sbatch, "--image") == "registry/omnilearn:1"
    assert "--mpi=pmi2" in srun and srun[srun.index("-m") - 2 :][:4] == ["shifter", "python", "-m", "omnilearn"]
    assert not any(line[0] == "module" for line in lines)


@pytest.mark.parametrize("restarts, requeued", [(0, True), (20, False)])
def test_usr1_before_the_time_limit_requeues_the_job(tmp_path, restarts, requeued):
    """Inside a job, SLURM's USR1 (``--signal=B:USR1@120``) makes the batch shell requeue the job
    while training goes on; after MAX_REQUEUES (20) restarts it no longer does."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    fakes = {
        # training that runs long enough to receive the signal, then succeeds
        "srun": f'echo "srun $*" >> {log}; touch {log}.started; sleep 3',
        "scontrol": f'echo "scontrol $*" >> {log}',
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "OMNILEARN_"))}
    env.update(
        PATH=f"{bin_dir}:{env['PATH']}",
        SLURM_JOB_ID="4242",
        SLURM_NNODES="1",
        SLURM_RESTART_COUNT=str(restarts),
        OMNILEARN_DIR=str(ROOT),
        OMNILEARN_ENV="venv",
        OMNILEARN_VENV=str(tmp_path / "venv"),
    )
    proc = subprocess.Popen(
        ["bash", str(SLURM / "pretrain.sh")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not Path(f"{log}.started").exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGUSR1)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr  # training was not interrupted
    calls = log.read_text().splitlines()
    assert calls[0].startswith("srun -N 1 ") and " -m omnilearn train " in calls[0]
    assert ("scontrol requeue 4242" in calls) is requeued


def test_lhco_dry_run_trains_samples_classifies_and_evaluates(tmp_path):
    lines = _dry_run("lhco.sh", "--epochs", "3", N_SIG="300 1000", SEEDS="1 2", PLOTS_DIR=str(tmp_path))
    assert _command(lines, "sbatch")[-2:] == ["--epochs", "3"]
    commands = _commands(lines)
    assert commands == ["lhco-train", "lhco-sample"] + ["lhco-classify"] * 8 + ["lhco-evaluate"]
    srun = [_omnilearn(line) for line in lines if line[0] == "srun"]
    train, sample, classify, evaluate = srun[0], srun[1], srun[2:-1], srun[-1]
    assert "--fine_tune" in train and _flag(train, "--pretrained") == str(ROOT / "runs" / "pretrain" / "best")
    assert _flag(train, "--runs_dir") == str(ROOT / "runs" / "lhco") and _flag(train, "--epochs") == "3"
    assert _flag(sample, "--run") == "omnilearn"
    runs = {(_flag(c, "--n_sig"), _flag(c, "--seed"), "--ideal" in c) for c in classify}
    assert runs == {(n, s, i) for n in ("300", "1000") for s in ("1", "2") for i in (True, False)}
    template = str(ROOT / "runs" / "lhco" / "lhco_generator_omnilearn" / "signal_region.h5")
    assert all(_flag(c, "--template") == template and "--fine_tune" in c for c in classify)
    assert _flag(evaluate, "--plot_dir") == str(tmp_path)
    scratch = [
        _omnilearn(line) for line in _dry_run("lhco.sh", FROM_SCRATCH="1", N_SIG="300", SEEDS="1") if line[0] == "srun"
    ]
    assert not any("--fine_tune" in c for c in scratch) and _flag(scratch[1], "--run") == "scratch"
