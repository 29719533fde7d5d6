#!/bin/bash
# Fine-tune the pretrained OmniLearn body for one classification task on NERSC Perlmutter,
# then evaluate it.  FROM_SCRATCH=1 trains the same classifier from random weights instead
# (the "PET classifier (scratch)" rows of the paper's Tables I-V).
#
#   bash slurm/finetune.sh top                      # submits itself; TASK may also be a variable
#   NODES=2 bash slurm/finetune.sh qg --epoch 5     # extra arguments go to `omnilearn finetune`
#   FROM_SCRATCH=1 bash slurm/finetune.sh top       # the from-scratch baseline
#   OMNILEARN_DRY_RUN=1 bash slurm/finetune.sh cms  # print the commands, run nothing
#
# TASK: top, qg, cms, atlas, atlas_small, h1, toptag_pythia (omnilearn.evaluation.tasks).
# Training runs `omnilearn finetune --dataset TASK` with the task's recipe from the authors'
# published commands as defaults (epochs, warm-up, patience, weight decay, body learning-rate
# factor; omnilearn/recipes.py) and --fine_tune --pretrained PRETRAINED; it writes
# RUNS_DIR/<task>_omnilearn (or <task>_scratch), the folders the evaluation reads.
# Evaluation (one GPU): `omnilearn evaluate --dataset TASK --runs <run> --data_dir DATA_DIR
# --runs_dir RUNS_DIR $EVAL_ARGS` (the particle count is read from the checkpoint).
#
# Variables (defaults): NODES (1 = 4 GPUs), ACCOUNT, QOS (regular), WALLTIME (06:00:00),
# DATA_DIR (<repo>/data), RUNS_DIR (<repo>/runs), PRETRAINED (RUNS_DIR/pretrain/best),
# FROM_SCRATCH (0), EVAL_ARGS, OMNILEARN_ENV (module | shifter | venv: see slurm/common.sh).
# Like pretrain.sh, the job requeues itself before its time limit and training resumes from
# the run's `last` checkpoint.
#
#SBATCH -C gpu
#SBATCH -N 1
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=32
#SBATCH -q regular
#SBATCH -t 06:00:00
#SBATCH -J omnilearn-finetune
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
    TASK=$1
    shift
fi
: "${TASK:?usage: slurm/finetune.sh TASK [training arguments] (or TASK=... in the environment)}"

fine_tune_defaults

submit_or_continue "$REPO/slurm/finetune.sh" "omnilearn-ft-$TASK" "$NODES" "$TASK" "$@"

setup_env "$NODES"
cd "$REPO"
run_requeueable "${LAUNCH[@]}" "${OMNILEARN[@]}" finetune --dataset "$TASK" --data_dir "$DATA_DIR" \
    --runs_dir "$RUNS_DIR" "${start[@]}" "$@"

# shellcheck disable=SC2086  # EVAL_ARGS is a list of words
run srun -N 1 -n 1 --gpus-per-task=1 --cpus-per-task="$CPUS_PER_TASK" "${OMNILEARN[@]}" evaluate \
    --dataset "$TASK" --runs "$run_name" --data_dir "$DATA_DIR" --runs_dir "$RUNS_DIR" ${EVAL_ARGS:-}
