#!/bin/bash
# OmniLearn pretraining on NERSC Perlmutter: JetClass, mode all, the paper's 128 A100 GPUs
# (32 nodes x 4), one Horovod worker per GPU, local batch 256.
#
#   bash slurm/pretrain.sh                          # submits itself (see the variables below)
#   RUNS_DIR=$PSCRATCH/trial NODES=2 WALLTIME=00:30:00 QOS=debug bash slurm/pretrain.sh --epoch 1
#                                                   # a short trial (its own RUNS_DIR: runs resume)
#   sbatch slurm/pretrain.sh                        # from the repository root: #SBATCH defaults
#   OMNILEARN_DRY_RUN=1 bash slurm/pretrain.sh      # print the commands, run nothing
#
# Variables (defaults): NODES (32), ACCOUNT (your default project), QOS (regular),
# WALLTIME (12:00:00), DATA_DIR (<repo>/data, holding jetclass/{train,val}.h5),
# RUNS_DIR (<repo>/runs: the checkpoints go to RUNS_DIR/pretrain, where finetune.sh and
# jetnet.sh look for them), OUTDIR (another folder for them instead),
# OMNILEARN_ENV (module | shifter | venv: see slurm/common.sh).
# The job runs `omnilearn train`; extra arguments go after the paper's flags (so they override them).
#
# The job requeues itself 120 s before its time limit; the rerun resumes from the run's `last`
# checkpoint (trainer.fit resume), so 200 epochs can span several 12-hour jobs.
#
#SBATCH -C gpu
#SBATCH -N 32
#SBATCH --ntasks-per-node=4
#SBATCH --gpus-per-task=1
#SBATCH --cpus-per-task=32
#SBATCH -q regular
#SBATCH -t 12:00:00
#SBATCH -J omnilearn-pretrain
#SBATCH --requeue
#SBATCH --signal=B:USR1@120
#SBATCH --open-mode=append
#SBATCH -o %x-%j.out
set -euo pipefail

# In a job, $0 is SLURM's copy of this file: find the repository from the submission.
REPO=${OMNILEARN_DIR:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}}
REPO=$(cd "$REPO" && pwd)
[ -f "$REPO/omnilearn/cli/__init__.py" ] || { echo "no omnilearn package under $REPO: submit from the repository root" >&2; exit 2; }
source "$REPO/slurm/common.sh"

NODES=${SLURM_NNODES:-${NODES:-32}}
WALLTIME=${WALLTIME:-12:00:00}
DATA_DIR=${DATA_DIR:-$REPO/data}
RUNS_DIR=${RUNS_DIR:-$REPO/runs}
out=(--runs_dir "$RUNS_DIR")
if [ -n "${OUTDIR:-}" ]; then out+=(--outdir "$OUTDIR"); fi

submit_or_continue "$REPO/slurm/pretrain.sh" omnilearn-pretrain "$NODES" "$@"

setup_env "$NODES"
cd "$REPO"
# The paper (Sec. II E): LION, lr 3e-5 warmed up over 3 epochs to 3e-5*sqrt(128), 200 epochs,
# local batch 256; weight decay 1e-5 as in the authors' code.
run_requeueable "${LAUNCH[@]}" "${OMNILEARN[@]}" train \
    --dataset jetclass --data_dir "$DATA_DIR" "${out[@]}" \
    --mode all --batch 256 --epoch 200 --warm_epoch 3 --stop_epoch 30 \
    --lr 3e-5 --lr_min 1e-6 --wd 1e-5 "$@"
