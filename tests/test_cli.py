"""The ``omnilearn`` command line: every command's help, hyphen aliases, value checks, the
run-folder rule, and that rule end to end on a tiny model (train → finetune → evaluate → report)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from omnilearn import recipes, runs
from omnilearn.cli import COMMANDS, build_parser, main
from omnilearn.data.format import UnifiedWriter

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--projection_dim", "16", "--num_layers", "1", "--num_heads", "2", "--K", "3"]
TINY += ["--num_class_layers", "1", "--num_gen_layers", "1"]


def _parse(argv: list[str]):
    parser, _ = build_parser(argv)
    args = vars(parser.parse_args(argv))
    args.pop("handler")
    return args


def _exit_code(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    return exc.value.code


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, capsys):
    assert _exit_code([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: omnilearn {command}") and "Example" in out


def test_top_level_help_lists_commands_without_tensorflow():
    code = (
        "import sys\nfrom omnilearn.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, check=True
    ).stdout
    assert out.splitlines()[-1] == "False"
    assert all(name in out for name in COMMANDS)


@pytest.mark.parametrize(
    "underscore, hyphen",
    [
        (
            ["train", "--num_particles", "32", "--no_jit", "--no_resume", "--mixed_precision", "--lr_min=1e-7"],
            ["train", "--num-particles", "32", "--no-jit", "--no-resume", "--mixed-precision", "--lr-min=1e-7"],
        ),
        (
            ["finetune", "--dataset", "atlas", "--small", "--body_lr_factor", "0.3", "--no_layer_scale"],
            ["finetune", "--dataset", "atlas", "--small", "--body-lr-factor", "0.3", "--no-layer-scale"],
        ),
        (
            ["generate-pythia", "--jets_per_class", "5", "--pt_min", "100", "--no_mpi", "--format", "top"],
            ["generate-pythia", "--jets-per-class", "5", "--pt-min", "100", "--no-mpi", "--format", "top"],
        ),
        (
            ["preprocess", "--dataset", "top", "--input", "x", "--max_jets", "10", "--num_particles", "7"],
            ["preprocess", "--dataset", "top", "--input", "x", "--max-jets", "10", "--num-particles", "7"],
        ),
        (["quickstart", "--no_scratch", "--paper_size"], ["quickstart", "--no-scratch", "--paper-size"]),
        (["train", "--accum_steps", "4", "--recompute", "all"], ["train", "--accum-steps=4", "--recompute=all"]),
        (["pythia-tasks", "--jets_per_class", "9"], ["pythia-tasks", "--jets-per-class", "9"]),
        (["sample", "--dataset", "jetnet30", "--num_jets", "4"], ["sample", "--dataset=jetnet30", "--num-jets=4"]),
        (["evaluate", "--dataset", "qg", "--cov_batches", "2"], ["evaluate", "--dataset", "qg", "--cov-batches=2"]),
    ],
)
def test_hyphen_aliases_parse_to_the_same_values(underscore, hyphen):
    assert _parse(hyphen) == _parse(underscore)  # an ignored alias would be an "unrecognized arguments" exit


def test_memory_flags_reach_the_configurations():
    from argparse import Namespace

    from omnilearn.cli import flags

    args = Namespace(**_parse(["train", "--accum_steps", "4", "--recompute", "none"]))
    assert flags.train_config(args).accum_steps == 4 and flags.model_config(args).recompute == "none"
    args = Namespace(**_parse(["train"]))
    assert flags.train_config(args).accum_steps == 1 and flags.model_config(args).recompute == "local"
    assert _exit_code(["train", "--accum_steps", "0"]) == 2 and _exit_code(["train", "--recompute", "x"]) == 2


def test_aliases_are_hidden_from_help(capsys):
    assert _exit_code(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--num_particles" in out and "--no_resume" in out and "--no_jit" in out
    assert "--num-particles" not in out and "--no-jit" not in out


def test_alias_values_reach_the_configs():
    from omnilearn.cli import flags

    parser, _ = build_parser(["train"])
    args = parser.parse_args(["train", "--no-jit", "--warm-epoch", "2", "--stop-epoch=4", "--trim-padding", "8"])
    cfg = flags.train_config(args)
    assert (cfg.jit_compile, cfg.warm_epoch, cfg.stop_epoch, cfg.trim_padding, cfg.mode) == (False, 2, 4, 8, "all")
    assert cfg.wd == recipes.PRETRAIN.wd and cfg.epoch == recipes.PRETRAIN.epoch  # the pretraining recipe


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["train", "--lr", "0"], "--lr"),
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--lr_min", "-1e-6"], "--lr_min"),
        (["train", "--batch", "0"], "--batch"),
        (["train", "--epoch", "0"], "--epoch"),
        (["train", "--warm-epoch", "-1"], "--warm_epoch"),  # the alias's error names the flag
        (["train", "--stop_epoch", "0"], "--stop_epoch"),
        (["train", "--wd", "-0.1"], "--wd"),
        (["train", "--num_particles", "0"], "--num_particles"),
        (["train", "--batch", "many"], "--batch"),
        (["finetune", "--dataset", "top", "--lr", "0"], "--lr"),
        (["generate-pythia", "--jets_per_class", "0"], "--jets_per_class"),
        (["generate-pythia", "--workers", "0"], "--workers"),
        (["quickstart", "--workers", "0"], "--workers"),
        (["quickstart", "--num_particles", "0"], "--num_particles"),
        (["pythia-tasks", "--jets_per_class", "-3"], "--jets_per_class"),
        (["pythia-tasks", "--lr", "0"], "--lr"),
    ],
)
def test_bad_values_are_one_argparse_error(argv, flag, capsys):
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}:" in err and "Traceback" not in err


def test_bad_value_through_a_script_shim_has_no_traceback():
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_top.py"), "--warm-epoch", "-2"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert "omnilearn finetune: error: argument --warm_epoch: must be >= 0" in out.stderr
    assert "Traceback" not in out.stderr


def test_finetune_defaults_follow_the_recipe():
    args = _parse(["finetune", "--dataset", "cms"])
    cms = recipes.recipe_for("cms")
    assert (args["epoch"], args["wd"], args["mode"]) == (cms.epoch, cms.wd, "classifier")
    args = _parse(["finetune", "--dataset", "jetnet150", "--epoch", "3"])
    assert (args["mode"], args["epoch"], args["stop_epoch"]) == ("generator", 3, recipes.JETNET.stop_epoch)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["finetune", "--dataset", "top", "--small"], "--small applies to --dataset atlas"),
        (["finetune", "--dataset", "top", "--jet_dir", "x"], "--jet_dir and --model_from apply to"),
        (["finetune", "--dataset", "jetnet30", "--mode", "classifier"], "trains the generator"),
        (["generate-pythia", "--format", "jetnet", "--pt_min", "100"], "drop --pt_min"),
        (["finetune", "--dataset", "omnifold_pythia"], "train it with `omnilearn omnifold`"),
        (["finetune", "--dataset", "lhco"], "holds events files, not jets"),
        (["train", "--dataset", "lhco"], "train it with `omnilearn lhco-train"),
        (["train", "--dataset", "omnifold"], "holds paired files, not jets"),
    ],
)
def test_flags_that_do_not_fit_together(argv, message, capsys, tmp_path):
    assert _exit_code([*argv, "--runs_dir", str(tmp_path)] if argv[0] in ("finetune", "train") else argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_pretrained_checkpoint_is_a_usage_error(tmp_path, capsys):
    assert _exit_code(["finetune", "--dataset", "top", "--fine_tune", "--runs_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no pretrained checkpoint at {tmp_path / 'pretrain' / 'best'}" in err and "omnilearn train" in err


def test_the_run_folder_rule(tmp_path):
    from omnilearn.evaluation import tasks

    assert runs.run_dir("runs", "jetclass", "pretrain") == Path("runs/pretrain")
    assert runs.run_dir("runs", None, runs.PRETRAIN) == Path("runs/pretrain")
    assert runs.pretrained_default("runs/quickstart") == Path("runs/quickstart/pretrain/best")
    assert runs.run_dir("runs", "top", runs.task_run(True)) == Path("runs/top_omnilearn")
    assert runs.run_dir("runs", "top", runs.task_run(False)) == Path("runs/top_scratch")
    assert runs.run_dir("r", "jetnet30", runs.JETS) == Path("r/jetnet30_jets")
    assert runs.samples_dir("samples", "jetnet30", "omnilearn", ideal=True) == Path("samples/jetnet30_omnilearn_ideal")
    assert tasks.get_task("qg").run_dir("r", "scratch") == runs.run_dir("r", "qg", "scratch")
    with pytest.raises(ValueError, match="needs a dataset"):
        runs.run_dir("runs", None, "omnilearn")


def test_evaluate_finds_the_jetnet_samples_the_rule_names(tmp_path):
    from omnilearn.cli.evaluate import generation_samples

    for name in ("jetnet30_omnilearn", "jetnet30_omnilearn_ideal", "jetnet30_scratch", "jetnet150_scratch"):
        (tmp_path / name).mkdir()
    found = generation_samples(tmp_path, "jetnet30", list(runs.TASK_RUNS))
    assert found == {
        "OmniLearn": tmp_path / "jetnet30_omnilearn",
        "OmniLearn (Ideal)": tmp_path / "jetnet30_omnilearn_ideal",
        "PET generator": tmp_path / "jetnet30_scratch",
    }


def _write(path: Path, classes, n=96, p=10, seed=0, normalization=None, present_features=None):
    rng = np.random.default_rng(seed)
    mult = rng.integers(2, p + 1, n)
    mask = np.arange(p)[None] < mult[:, None]
    pid = np.arange(n) % len(classes)  # every class in every split
    data = (rng.normal(size=(n, p, 13)) * mask[..., None]).astype("float32")
    data[..., 0] += pid[:, None] * mask  # some separation, so the ROC is not degenerate
    jet = np.stack([rng.uniform(500, 1000, n), rng.normal(size=n), rng.uniform(10, 200, n), mult], -1)
    with UnifiedWriter(path, p, list(classes), normalization=normalization, present_features=present_features) as w:
        w.append(data, jet.astype("float32"), pid)
    return w.normalization


@pytest.mark.slow
def test_rule_end_to_end_train_finetune_evaluate_report(tmp_path, monkeypatch):
    """As a user runs it from a fresh folder with the default runs/: pretrain → fine-tune finds
    runs/pretrain/best by itself → evaluate reads the particle count from the checkpoint."""
    from omnilearn.models.checkpoint import data_settings, read_meta

    data = tmp_path / "data"
    for split, seed in (("train", 0), ("val", 1)):
        _write(data / "pythia" / f"{split}.h5", ("qcd", "top", "wqq", "zqq", "hbb"), seed=seed)
    norm = _write(data / "toptag_pythia" / "train.h5", ("qcd", "top"), seed=2)
    for split, seed in (("val", 3), ("test", 4)):
        _write(data / "toptag_pythia" / f"{split}.h5", ("qcd", "top"), seed=seed, normalization=norm)
    monkeypatch.chdir(tmp_path)
    common = ["--epoch", "1", "--warm_epoch", "0", "--batch", "32", "--no-jit", *TINY]

    assert main(["train", "--dataset", "pythia", *common]) == 0
    assert read_meta("runs/pretrain/best")["mode"] == "all"

    assert main(["finetune", "--dataset", "toptag_pythia", "--fine_tune", "--num_particles", "6", *common]) == 0
    settings = data_settings("runs/toptag_pythia_omnilearn/best")
    assert settings["pretrained"] == str(Path("runs/pretrain/best")) and settings["num_particles"] == 6
    assert read_meta("runs/toptag_pythia_omnilearn/best")["train"]["fine_tune"] is True
    assert not Path("runs/toptag_pythia_scratch").exists()

    assert main(["evaluate", "--dataset", "toptag_pythia", "--bootstrap", "2"]) == 0
    result = json.loads(Path("runs/toptag_pythia_omnilearn/results.json").read_text())
    assert result["num_particles"] == 6 and result["n"] == 96 and 0 <= result["auc"] <= 1

    assert main(["report", "--dataset", "toptag_pythia"]) == 0
    assert Path("plots/toptag_pythia_roc.png").stat().st_size > 0
    assert "measured here" in Path("plots/toptag_pythia_table.md").read_text()


def test_malformed_input_is_one_line_and_nothing_written(tmp_path, capsys):
    """A file in the wrong format: exit code 1, the converter's message on one line, no traceback,
    no output folder left behind."""
    src = tmp_path / "qg"
    src.mkdir()
    np.savez(src / "QG_jets.npz", X=np.zeros((4, 8, 3)), y=np.zeros(4))  # qg ships 4 columns per particle
    out = tmp_path / "out"
    assert main(["preprocess", "--dataset", "qg", "--input", str(src), "--outdir", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("omnilearn preprocess: error: ") and "QG_jets.npz" in err
    assert "\n" not in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def _checkpoint(path: Path, classes, normalization, num_particles: int, present: int = 13) -> None:
    """An untrained tiny classifier saved as a run's checkpoint, with its data settings."""
    from omnilearn.config import ModelConfig
    from omnilearn.data.features import PARTICLE_FEATURES
    from omnilearn.models import OmniLearn

    cfg = ModelConfig(num_classes=len(classes), projection_dim=16, num_layers=1, num_heads=2, K=3, num_fourier=16)
    cfg = cfg.replace(num_class_layers=1, num_gen_layers=1)
    data = {"dataset": "x", "num_particles": num_particles, "present_features": list(PARTICLE_FEATURES[:present])}
    OmniLearn(cfg, mode="classifier").save_checkpoint(
        path, classes=list(classes), normalization=normalization, data=data
    )


def test_evaluate_reads_the_particle_count_and_checks_the_checkpoint_against_the_data(tmp_path, capsys):
    """``evaluate`` uses the particle count the checkpoint was trained with; a checkpoint of other
    classes (a q/g model in the top run folder) is one error line, exit 1, nothing written; files
    lacking inputs the model had give one warning line."""
    from omnilearn.data.features import PARTICLE_FEATURES

    data, runs_dir = tmp_path / "data" / "toptag_pythia", tmp_path / "runs"
    norm = _write(data / "test.h5", ("qcd", "top"), seed=4)
    _checkpoint(runs_dir / "toptag_pythia_omnilearn" / "best", ("qcd", "top"), norm, num_particles=6)
    argv = ["evaluate", "--dataset", "toptag_pythia", "--bootstrap", "0", "--data_dir", str(tmp_path / "data")]
    argv += ["--runs_dir", str(runs_dir)]
    assert main(argv) == 0
    result = json.loads((runs_dir / "toptag_pythia_omnilearn" / "results.json").read_text())
    assert result["num_particles"] == 6 and result["n"] == 96
    assert "warning" not in capsys.readouterr().err

    _checkpoint(runs_dir / "toptag_pythia_scratch" / "best", ("gluon", "quark"), norm, num_particles=6)
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("omnilearn evaluate: error: ") and "\n" not in err
    assert "tells apart the classes ['gluon', 'quark']" in err and "holds ['qcd', 'top']" in err
    assert not (runs_dir / "toptag_pythia_scratch" / "results.json").exists()

    _checkpoint(runs_dir / "toptag_pythia_scratch" / "best", ("qcd", "top"), norm, num_particles=6)
    _write(data / "test.h5", ("qcd", "top"), seed=4, normalization=norm, present_features=PARTICLE_FEATURES[:7])
    assert main(argv) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(ln.startswith("omnilearn evaluate: warning: ") for ln in lines)  # one per run
    assert "['charge', 'is_electron'" in lines[0] and "does not have" in lines[0]
