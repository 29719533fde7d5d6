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
    for name in ("NODES", "ACCOUNT", "QOS", "WALLTIME", "DATA_DIR", "OUTDIR", "TASK", "EPOCH", "WD",
                 "OMNILEARN_ENV", "SHIFTER_IMAGE", "PRETRAINED", "DATASET", "SAMPLES_DIR", "RESULTS_DIR",
                 "PLOTS_DIR", "SAMPLE_ARGS", "FROM_SCRATCH"):
        clean.pop(name, None)
    out = subprocess.run(["bash", str(SLURM / script), *args], env={**clean, "OMNILEARN_DRY_RUN": "1", **env},
                         capture_output=True, text=True, timeout=60, cwd="/")
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


def test_templates_exist():
    assert {p.name for p in TEMPLATES} >= {"pretrain.sh", "finetune.sh", "jetnet.sh", "common.sh"}


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
    train = srun[srun.index("scripts/train.py"):]
    assert _flag(srun, "--ntasks-per-node") == "4" and _flag(srun, "--gpus-per-task") == "1"
    expected = {"--dataset": "jetclass", "--mode": "all", "--batch": "256", "--epoch": "200",
                "--warm_epoch": "3", "--lr": "3e-5", "--lr_min": "1e-6", "--wd": "1e-5",
                "--outdir": str(ROOT / "runs" / "pretrain")}
    assert {k: _flag(train, k) for k in expected} == expected
    assert ["module", "load", "tensorflow"] in lines


def test_pretrain_variables_and_extra_arguments():
    lines = _dry_run("pretrain.sh", "--epoch", "2", NODES="2", ACCOUNT="m0000", QOS="debug", WALLTIME="00:30:00")
    sbatch = _command(lines, "sbatch")
    assert (_flag(sbatch, "-N"), _flag(sbatch, "-A"), _flag(sbatch, "-q"), _flag(sbatch, "-t")) == (
        "2", "m0000", "debug", "00:30:00")
    srun = _command(lines, "srun")
    assert _flag(srun, "-N") == "2"
    assert _flag(srun, "--epoch") == "2"  # extra arguments come last and override
    assert "-A" not in _command(_dry_run("pretrain.sh"), "sbatch")  # default project


def _train_command(lines: list[list[str]]) -> list[str]:
    """The srun line of the training step (the evaluation has its own)."""
    found = [line for line in lines if line[0] == "srun" and any(w.startswith("scripts/") and w.endswith(
        ("train.py", "finetune.py")) for w in line)]
    assert len(found) == 1, lines
    return found[0]


def test_finetune_dry_run():
    lines = _dry_run("finetune.sh", "cms")
    srun = _train_command(lines)
    assert _flag(srun, "--ntasks-per-node") == "4" and _flag(srun, "--gpus-per-task") == "1"
    script = next(w for w in srun if w.startswith("scripts/"))
    train = srun[srun.index(script):]
    assert _flag(train, "--dataset") == "cms" and "--fine_tune" in train
    assert _flag(train, "--pretrained") == str(ROOT / "runs" / "pretrain" / "best")
    if script == "scripts/train.py":  # fallback without finetune.py: the mode must be explicit
        assert _flag(train, "--mode") == "classifier"
    assert _command(lines, "sbatch")[-1:] == ["cms"]  # the task travels to the job as an argument

    scratch = _train_command(_dry_run("finetune.sh", "top", FROM_SCRATCH="1"))
    assert "--fine_tune" not in scratch and "--pretrained" not in scratch
    # the task may also come from the environment; extra arguments come last
    env_srun = _train_command(_dry_run("finetune.sh", "--epoch", "3", TASK="top"))
    assert _flag(env_srun, "--dataset") == "top" and _flag(env_srun, "--epoch") == "3"


def test_finetune_evaluates_when_the_script_exists():
    lines = _dry_run("finetune.sh", "top")
    evals = [line for line in lines if "scripts/evaluate_classifiers.py" in line]
    if (ROOT / "scripts" / "evaluate_classifiers.py").exists():
        assert len(evals) == 1 and evals[0][0] == "srun"
        assert _flag(evals[0], "--dataset") == "top" and _flag(evals[0], "--runs") == "omnilearn"
        scratch = _dry_run("finetune.sh", "top", FROM_SCRATCH="1")
        assert _flag(next(line for line in scratch if "scripts/evaluate_classifiers.py" in line), "--runs") == "scratch"
    else:
        assert not evals


def test_jetnet_dry_run_trains_samples_and_evaluates(tmp_path):
    (tmp_path / "jetnet150_scratch").mkdir()  # the scratch job has run: its samples are evaluated too
    lines = _dry_run("jetnet.sh", "jetnet150", "--epoch", "7", SAMPLES_DIR=str(tmp_path))
    assert _command(lines, "sbatch")[-3:] == ["jetnet150", "--epoch", "7"]
    sruns = [line for line in lines if line[0] == "srun"]
    scripts = [next(w for w in line if w.startswith("scripts/")) for line in sruns]
    assert scripts == ["scripts/train_jetnet.py", "scripts/sample_jetnet.py", "scripts/sample_jetnet.py",
                       "scripts/evaluate_jetnet.py"]
    train, plain, ideal, evaluate = sruns
    assert _flag(train, "--ntasks-per-node") == "4" and _flag(train, "--epoch") == "7"
    assert _flag(train, "--dataset") == "jetnet150" and "--fine_tune" in train
    assert _flag(train, "--pretrained") == str(ROOT / "runs" / "pretrain" / "best")
    assert _flag(plain, "-n") == "1" and "--ideal" not in plain and "--ideal" in ideal
    assert _flag(plain, "--run") == _flag(ideal, "--run") == str(ROOT / "runs" / "jetnet150_omnilearn")
    assert _flag(ideal, "--outdir") == str(tmp_path / "jetnet150_omnilearn_ideal")
    samples = evaluate[evaluate.index("--samples") + 1:]
    assert samples == [f"OmniLearn={tmp_path}/jetnet150_omnilearn",
                       f"OmniLearn (Ideal)={tmp_path}/jetnet150_omnilearn_ideal",
                       f"PET generator={tmp_path}/jetnet150_scratch"]

    scratch = [line for line in _dry_run("jetnet.sh", FROM_SCRATCH="1", DATASET="jetnet30",
                                         SAMPLES_DIR=str(tmp_path)) if line[0] == "srun"]
    assert "--fine_tune" not in scratch[0] and "--pretrained" not in scratch[0]
    assert _flag(scratch[1], "--run") == str(ROOT / "runs" / "jetnet30_scratch")
    assert scratch[-1][-2:] == [f"PET generator={tmp_path}/jetnet30_scratch",
                                f"PET generator (Ideal)={tmp_path}/jetnet30_scratch_ideal"]


def test_jetnet_rejects_an_unknown_dataset():
    out = subprocess.run(["bash", str(SLURM / "jetnet.sh"), "top"], env={**os.environ, "OMNILEARN_DRY_RUN": "1"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "jetnet30 or jetnet150" in out.stderr


def test_finetune_needs_a_task():
    out = subprocess.run(["bash", str(SLURM / "finetune.sh")], env={**os.environ, "OMNILEARN_DRY_RUN": "1"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "usage" in out.stderr


def test_shifter_environment():
    lines = _dry_run("pretrain.sh", OMNILEARN_ENV="shifter", SHIFTER_IMAGE="registry/omnilearn:1")
    sbatch, srun = _command(lines, "sbatch"), _command(lines, "srun")
    assert _flag(sbatch, "--image") == "registry/omnilearn:1"
    assert "--mpi=pmi2" in srun and srun[srun.index("scripts/train.py") - 2:][:2] == ["shifter", "python"]
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
    env.update(PATH=f"{bin_dir}:{env['PATH']}", SLURM_JOB_ID="4242", SLURM_NNODES="1",
               SLURM_RESTART_COUNT=str(restarts), OMNILEARN_DIR=str(ROOT), OMNILEARN_ENV="venv",
               OMNILEARN_VENV=str(tmp_path / "venv"))
    proc = subprocess.Popen(["bash", str(SLURM / "pretrain.sh")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not Path(f"{log}.started").exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGUSR1)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr  # training was not interrupted
    calls = log.read_text().splitlines()
    assert calls[0].startswith("srun -N 1 ") and "scripts/train.py" in calls[0]
    assert ("scontrol requeue 4242" in calls) is requeued
