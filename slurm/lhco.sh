#!/bin/bash
# LHCO anomaly detection (paper Sec. VIII, Figs. 10-12) on NERSC Perlmutter: the sideband
# background generator, the signal-region template, CWoLa classifiers over injected signal and
# seeds, and the max-SIC summary.
#
#   bash slurm/lhco.sh                                # submits itself (fine-tuned from PRETRAINED)
#   FROM_SCRATCH=1 bash slurm/lhco.sh                 # the PET (from scratch) curves
#   N_SIG="300 600 1000" SEEDS="1 2 3" bash slurm/lhco.sh --epochs 20   # extra args: every training
#   OMNILEARN_DRY_RUN=1 bash slurm/lhco.sh            # print the commands, run nothing
#
# Each step is a single-GPU `omnilearn` command (the trainings are small; the four GPUs of the
# node run four classifiers at a time): `lhco-train` (RUNS_DIR/lhco_generator_<run>),
# `lhco-sample` (its signal_region.h5), then for every N_SIG and SEED an idealised and a
# generated-template `lhco-classify`, then `lhco-evaluate` into PLOTS_DIR. DATA_DIR holds the
# event files (`omnilearn preprocess --dataset lhco` of the R&D file, or `omnilearn lhco-generate`).
#
# Variables (defaults): ACCOUNT, QOS (regular), WALLTIME (06:00:00), DATA_DIR (<repo>/data/lhco),
# RUNS_DIR (<repo>/runs/lhco), PLOTS_DIR (<repo>/plots/lhco), PRETRAINED (<repo>/runs/pretrain/best, or RUNS_DIR/pretrain/best if RUNS_DIR is set),
# FROM_SCRATCH (0), N_SIG ("300 600 1000 1500 2000 3000"), SEEDS ("1 2 3 4 5"),
# SAMPLE_ARGS (e.g. "--steps 128"), OMNILEARN_ENV (see slurm/common.sh).
#
#SBATCH -C gpu
#SBATCH -N 1
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=32
#SBATCH -q regular
#SBATCH -t 06:00:00
#SBATCH -J omnilearn-lhco
#SBATCH --open-mode=append
#SBATCH -o %x-%j.out
set -euo pipefail

REPO=${OMNILEARN_DIR:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}}
REPO=$(cd "$REPO" && pwd)
[ -f "$REPO/omnilearn/cli/__init__.py" ] || { echo "no omnilearn package under $REPO: submit from the repository root" >&2; exit 2; }
source "$REPO/slurm/common.sh"

DATA_DIR=${DATA_DIR:-$REPO/data/lhco}
PRETRAINED=${PRETRAINED:-${RUNS_DIR:-$REPO/runs}/pretrain/best}
RUNS_DIR=${RUNS_DIR:-$REPO/runs/lhco}
fine_tune_defaults
NODES=1
PLOTS_DIR=${PLOTS_DIR:-$REPO/plots/lhco}
N_SIG=${N_SIG:-300 600 1000 1500 2000 3000}
SEEDS=${SEEDS:-1 2 3 4 5}

submit_or_continue "$REPO/slurm/lhco.sh" "omnilearn-lhco-$run_name" "$NODES" "$@"

setup_env "$NODES"
cd "$REPO"
ONE_GPU=(srun -N 1 -n 1 --gpus-per-task=1 --cpus-per-task="$CPUS_PER_TASK")
COMMON=(--data_dir "$DATA_DIR" --runs_dir "$RUNS_DIR")

run "${ONE_GPU[@]}" "${OMNILEARN[@]}" lhco-train "${COMMON[@]}" "${start[@]}" "$@"
# shellcheck disable=SC2086  # SAMPLE_ARGS is a list of words
run "${ONE_GPU[@]}" "${OMNILEARN[@]}" lhco-sample "${COMMON[@]}" --run "$run_name" ${SAMPLE_ARGS:-}

template=$RUNS_DIR/lhco_generator_$run_name/signal_region.h5
for n_sig in $N_SIG; do
    for seed in $SEEDS; do
        for ideal in --ideal ""; do
            # shellcheck disable=SC2086  # $ideal is one word or none
            run "${ONE_GPU[@]}" "${OMNILEARN[@]}" lhco-classify "${COMMON[@]}" "${start[@]}" \
                --n_sig "$n_sig" --seed "$seed" $ideal --template "$template" "$@"
        done
    done
done
run "${ONE_GPU[@]}" "${OMNILEARN[@]}" lhco-evaluate "${COMMON[@]}" --plot_dir "$PLOTS_DIR"
