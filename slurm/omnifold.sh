#!/bin/bash
# OmniFold unfolding (paper Sec. VII, Tables VIII-IX) on NERSC Perlmutter: 5 iterations with the
# pretrained OmniLearn fine-tuned (or the same PET from scratch), then the evaluation.
#
#   bash slurm/omnifold.sh                            # the Zenodo samples (DATASET=omnifold); submits itself
#   bash slurm/omnifold.sh omnifold_pythia            # the offline Pythia default
#   FROM_SCRATCH=1 bash slurm/omnifold.sh             # the "PET classifier" column
#   bash slurm/omnifold.sh omnifold --num_iter 3      # extra arguments go to `omnilearn omnifold`
#   OMNILEARN_DRY_RUN=1 bash slurm/omnifold.sh        # print the commands, run nothing
#
# Training: `omnilearn omnifold --dataset DATASET --num_iter 5` (data-parallel: each GPU holds a
# shard of the events; the weights are normalised by the global mean), writing
# RUNS_DIR/<dataset>_omnilearn (or _scratch) with a checkpoint per (iteration, step); it requeues
# itself before the time limit and resumes at the step it was in. Then, on one GPU:
# `omnilearn omnifold-evaluate --runs EVAL_RUNS` (default: the run just trained; "omnilearn
# scratch" once both exist) into PLOTS_DIR. The data must be there: `omnilearn preprocess
# --dataset omnifold --input <Zenodo files>` or `omnilearn generate-omnifold`.
#
# Variables (defaults): NODES (1 = 4 GPUs), ACCOUNT, QOS (regular), WALLTIME (06:00:00),
# DATA_DIR (<repo>/data), RUNS_DIR (<repo>/runs), PLOTS_DIR (<repo>/plots/omnifold),
# PRETRAINED (RUNS_DIR/pretrain/best), FROM_SCRATCH (0), EVAL_RUNS, OMNILEARN_ENV (see slurm/common.sh).
#
#SBATCH -C gpu
#SBATCH -N 1
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=32
#SBATCH -q regular
#SBATCH -t 06:00:00
#SBATCH -J omnilearn-omnifold
#SBATCH --requeue
#SBATCH --signal=B:USR1@120
#SBATCH --open-mode=append
#SBATCH -o %x-%j.out
set -euo pipefail

REPO=${OMNILEARN_DIR:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}}
REPO=$(cd "$REPO" && pwd)
[ -f "$REPO/omnilearn/cli/__init__.py" ] || { echo "no omnilearn package under $REPO: submit from the repository root" >&2; exit 2; }
source "$REPO/slurm/common.sh"

if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    DATASET=$1
    shift
fi
DATASET=${DATASET:-omnifold}
case "$DATASET" in
    omnifold | omnifold_pythia) ;;
    *) echo "DATASET must be omnifold or omnifold_pythia, not '$DATASET'" >&2; exit 2 ;;
esac

fine_tune_defaults
PLOTS_DIR=${PLOTS_DIR:-$REPO/plots/omnifold}
EVAL_RUNS=${EVAL_RUNS:-$run_name}

submit_or_continue "$REPO/slurm/omnifold.sh" "omnilearn-$DATASET-$run_name" "$NODES" "$DATASET" "$@"

setup_env "$NODES"
cd "$REPO"
run_requeueable "${LAUNCH[@]}" "${OMNILEARN[@]}" omnifold --dataset "$DATASET" --num_iter 5 \
    --data_dir "$DATA_DIR" --runs_dir "$RUNS_DIR" "${start[@]}" "$@"

# shellcheck disable=SC2086  # EVAL_RUNS is a list of words
run srun -N 1 -n 1 --gpus-per-task=1 --cpus-per-task="$CPUS_PER_TASK" "${OMNILEARN[@]}" omnifold-evaluate \
    --dataset "$DATASET" --data_dir "$DATA_DIR" --runs_dir "$RUNS_DIR" --runs $EVAL_RUNS --plot_dir "$PLOTS_DIR"
