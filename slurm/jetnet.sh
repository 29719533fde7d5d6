#!/bin/bash
# JetNet generation (paper Sec. VI, Tables VI-VII) on NERSC Perlmutter: train OmniLearn's
# generator head from the pretrained model (or from scratch), sample jets, evaluate them.
#
#   bash slurm/jetnet.sh jetnet30                     # submits itself; DATASET may also be a variable
#   FROM_SCRATCH=1 bash slurm/jetnet.sh jetnet150     # the "PET generator" rows
#   bash slurm/jetnet.sh jetnet30 --epoch 100         # extra arguments go to `omnilearn finetune`
#   OMNILEARN_DRY_RUN=1 bash slurm/jetnet.sh jetnet30 # print the commands, run nothing
#
# Training: `omnilearn finetune --dataset DATASET` (data-parallel over the job's GPUs; rank 0
# first trains the jet-level model into RUNS_DIR/<dataset>_jets unless it is there, so both runs
# share it), writing RUNS_DIR/<dataset>_omnilearn (or _scratch); it requeues itself before the
# time limit and resumes from `last`, like pretrain.sh.  Then, on one GPU: `omnilearn sample`
# with the jet model's jets and with the validation split's jets (--ideal) into
# SAMPLES_DIR/<dataset>_<run>[_ideal], and `omnilearn evaluate` on every sample folder of this
# dataset present by then (run the scratch job too to get both rows), beside the paper's
# numbers, into RESULTS_DIR and plots into PLOTS_DIR.
#
# Variables (defaults): NODES (1 = 4 GPUs), ACCOUNT, QOS (regular), WALLTIME (06:00:00),
# DATA_DIR (<repo>/data), RUNS_DIR (<repo>/runs), SAMPLES_DIR (<repo>/samples),
# RESULTS_DIR (<repo>/plots/jetnet), PLOTS_DIR (<repo>/plots/jetnet), PRETRAINED (RUNS_DIR/pretrain/best),
# FROM_SCRATCH (0), SAMPLE_ARGS (e.g. "--steps 128"), OMNILEARN_ENV (see slurm/common.sh).
#
#SBATCH -C gpu
#SBATCH -N 1
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=32
#SBATCH -q regular
#SBATCH -t 06:00:00
#SBATCH -J omnilearn-jetnet
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
: "${DATASET:?usage: slurm/jetnet.sh jetnet30|jetnet150 [training arguments] (or DATASET=... in the environment)}"
case "$DATASET" in
    jetnet30 | jetnet150) ;;
    *) echo "DATASET must be jetnet30 or jetnet150, not '$DATASET'" >&2; exit 2 ;;
esac

fine_tune_defaults
SAMPLES_DIR=${SAMPLES_DIR:-$REPO/samples}
RESULTS_DIR=${RESULTS_DIR:-$REPO/plots/jetnet}
PLOTS_DIR=${PLOTS_DIR:-$REPO/plots/jetnet}

submit_or_continue "$REPO/slurm/jetnet.sh" "omnilearn-$DATASET-$run_name" "$NODES" "$DATASET" "$@"

setup_env "$NODES"
cd "$REPO"
run_requeueable "${LAUNCH[@]}" "${OMNILEARN[@]}" finetune --dataset "$DATASET" \
    --data_dir "$DATA_DIR" --runs_dir "$RUNS_DIR" "${start[@]}" "$@"

ONE_GPU=(srun -N 1 -n 1 --gpus-per-task=1 --cpus-per-task="$CPUS_PER_TASK")
for ideal in "" --ideal; do
    # shellcheck disable=SC2086  # SAMPLE_ARGS is a list of words
    run "${ONE_GPU[@]}" "${OMNILEARN[@]}" sample --dataset "$DATASET" --data_dir "$DATA_DIR" \
        --runs_dir "$RUNS_DIR" --run "$run_name" --samples_dir "$SAMPLES_DIR" $ideal ${SAMPLE_ARGS:-}
done

# Every sample folder SAMPLES_DIR/<dataset>_{omnilearn,scratch}[_ideal] written by then, under
# the paper's row labels.
run "${ONE_GPU[@]}" "${OMNILEARN[@]}" evaluate --dataset "$DATASET" --data_dir "$DATA_DIR" \
    --runs_dir "$RUNS_DIR" --samples_dir "$SAMPLES_DIR" --results_dir "$RESULTS_DIR" --plot_dir "$PLOTS_DIR"
