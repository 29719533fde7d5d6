# Shared by slurm/pretrain.sh, slurm/finetune.sh and slurm/jetnet.sh (sourced, not run).
#
# Each template is both the submitter and the batch script:
#   * outside a job (no SLURM_JOB_ID) it submits itself with `sbatch`, turning the variables
#     NODES / ACCOUNT / QOS / WALLTIME into sbatch options (#SBATCH lines cannot read variables);
#   * inside the job it loads the environment and runs `srun python -m omnilearn train ...`.
# With OMNILEARN_DRY_RUN=1 nothing is submitted or run: both the sbatch command and the
# commands the job would run are printed, exactly (shell-quoted).
#
# Environment (OMNILEARN_ENV):
#   module   (default) `module load $TF_MODULE` (NERSC's TensorFlow, which ships Horovod built
#            with MPI + NCCL), this repository on PYTHONPATH;
#   shifter  the container $SHIFTER_IMAGE (TensorFlow >= 2.16 with Keras 3 + Horovod), started
#            per task with `srun --mpi=pmi2 shifter`;
#   venv     $OMNILEARN_VENV (default <repo>/.venv); under srun its Horovod must be built with
#            MPI: OMNILEARN_HOROVOD_MPI=1 scripts/install_horovod.sh (OMNILEARN_HOROVOD_GPU=1 for NCCL).

: "${OMNILEARN_ENV:=module}"
: "${TF_MODULE:=tensorflow}"
: "${SHIFTER_IMAGE:=}"
: "${ACCOUNT:=}"            # empty: your default NERSC project
: "${QOS:=regular}"
: "${GPUS_PER_NODE:=4}"     # Perlmutter GPU nodes: 4 A100
: "${CPUS_PER_TASK:=32}"    # 64 cores x 2 hyperthreads / 4 tasks
: "${MAX_REQUEUES:=20}"     # stop requeueing a job that never finishes an epoch

dry_run() { [ "${OMNILEARN_DRY_RUN:-0}" != 0 ]; }

# Print (dry run) or execute a command.
run() {
    if dry_run; then
        local word out=()
        for word in "$@"; do
            # shell-quote only words that need it, so the printed command stays readable
            if [[ $word =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=("$word"); else out+=("$(printf '%q' "$word")"); fi
        done
        echo "${out[*]}"
    else
        "$@"
    fi
}

# Submit the calling template ($1: its path, $2: job name, $3: nodes; then the template's
# arguments) unless we are already inside the job.  Returns 0 when the caller should go on
# with the job body (inside a job, or in a dry run to show it too).
submit_or_continue() {
    local script=$1 name=$2 nodes=$3
    shift 3
    [ -n "${SLURM_JOB_ID:-}" ] && return 0
    local args=(sbatch -C gpu -N "$nodes" --ntasks-per-node="$GPUS_PER_NODE" --gpus-per-task=1
                --cpus-per-task="$CPUS_PER_TASK" -q "$QOS" -t "$WALLTIME" -J "$name"
                --requeue --signal=B:USR1@120 --open-mode=append -o "$REPO/%x-%j.out"
                --chdir="$REPO" --export=ALL,OMNILEARN_DIR="$REPO")
    [ -n "$ACCOUNT" ] && args+=(-A "$ACCOUNT")
    if [ "$OMNILEARN_ENV" = shifter ]; then
        [ -n "$SHIFTER_IMAGE" ] || { echo "OMNILEARN_ENV=shifter needs SHIFTER_IMAGE" >&2; exit 2; }
        args+=(--image="$SHIFTER_IMAGE" --module=gpu,nccl-plugin)
    fi
    run "${args[@]}" "$script" "$@"
    dry_run || exit 0
    echo "# inside the job:"
}

# Defaults of the jobs that start from the pretrained model (finetune.sh, jetnet.sh): sets
# NODES, WALLTIME, DATA_DIR, RUNS_DIR, PRETRAINED, and run_name/start: "omnilearn" with
# --fine_tune --pretrained, or "scratch" with nothing when FROM_SCRATCH=1. The run folders follow
# the command line's rule: RUNS_DIR/pretrain, RUNS_DIR/<dataset>_<run_name>.
fine_tune_defaults() {
    NODES=${SLURM_NNODES:-${NODES:-1}}
    WALLTIME=${WALLTIME:-06:00:00}
    DATA_DIR=${DATA_DIR:-$REPO/data}
    RUNS_DIR=${RUNS_DIR:-$REPO/runs}
    PRETRAINED=${PRETRAINED:-$RUNS_DIR/pretrain/best}
    if [ "${FROM_SCRATCH:-0}" = 1 ]; then
        run_name=scratch
        start=()
    else
        run_name=omnilearn
        start=(--fine_tune --pretrained "$PRETRAINED")
    fi
}

# Load the software environment and set LAUNCH (the srun prefix for one task per GPU) and
# OMNILEARN (the command: this repository's `python -m omnilearn`).
setup_env() {
    local nodes=$1
    case "$OMNILEARN_ENV" in
        module)
            # Lmod's scripts are not `set -u` clean
            set +u
            run module load "$TF_MODULE"
            set -u
            export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
            PYTHON=(python)
            ;;
        shifter)
            export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
            PYTHON=(shifter python)
            ;;
        venv)
            PYTHON=("${OMNILEARN_VENV:-$REPO/.venv}/bin/python")
            ;;
        *)
            echo "unknown OMNILEARN_ENV=$OMNILEARN_ENV (module, shifter or venv)" >&2
            exit 2
            ;;
    esac
    # No GPU binding: every task sees the node's 4 GPUs (NCCL can then use NVLink between
    # them) and distributed.init() pins GPU number local_rank.
    LAUNCH=(srun -N "$nodes" --ntasks-per-node="$GPUS_PER_NODE" --gpus-per-task=1
            --cpus-per-task="$CPUS_PER_TASK" --gpu-bind=none)
    [ "$OMNILEARN_ENV" = shifter ] && LAUNCH+=(--mpi=pmi2)
    OMNILEARN=("${PYTHON[@]}" -m omnilearn)
    export HDF5_USE_FILE_LOCKING=FALSE  # many readers of the same files on Lustre
    export TF_CPP_MIN_LOG_LEVEL=2
}

# Run a command (the training step) so that the USR1 sent 120 s before the time limit
# requeues the job.  Checkpoints are written after every epoch and `omnilearn train|finetune`
# resume from `last`, so the requeued job reruns the same command and loses at most the epoch
# in progress.
run_requeueable() {
    if dry_run; then
        run "$@"
        return 0
    fi
    requeue() {
        local count=${SLURM_RESTART_COUNT:-0}
        if [ "$count" -lt "$MAX_REQUEUES" ]; then
            echo "$(date): time limit near; requeueing job $SLURM_JOB_ID (restart $((count + 1)))"
            scontrol requeue "$SLURM_JOB_ID"
        else
            echo "$(date): time limit near; $count restarts already, not requeueing" >&2
        fi
    }
    trap requeue USR1
    # In the background so that bash can run the trap while srun is running.
    "$@" &
    local pid=$! status
    while true; do
        wait "$pid" && status=0 || status=$?
        # wait returns > 128 when a trapped signal interrupted it; srun may still be running
        kill -0 "$pid" 2>/dev/null || break
    done
    trap - USR1
    return "$status"
}
