"""Data-parallel training with Horovod (the paper pretrains on 128 GPUs this way).

Each worker (one process per GPU, launched by ``horovodrun`` or ``srun``) reads its own shard
of the training files (:class:`~omnilearn.data.loader.JetLoader` with ``rank``/``num_workers``),
computes gradients on its local batch, and the gradients are averaged over all workers before
every optimizer step, so all workers take the same step and keep identical weights::

    ctx = distributed.init()                     # rank/size, or 0/1 without Horovod
    model = OmniLearn(...)
    distributed.make_distributed(model)          # allreduce gradients and metrics
    trainer.fit(model, ..., rank=ctx.rank, num_workers=ctx.size,
                extra_callbacks=[distributed.BroadcastState()])

:func:`omnilearn.training.run.run_training` does the last three steps when
``num_workers > 1``.  :class:`~omnilearn.models.omnilearn.OmniLearn` itself never imports
Horovod: this module only fills its ``reduce_gradients``/``reduce_metric`` hooks.

Two Horovod conveniences do not work with Keras 3 and are replaced here:
``hvd.DistributedGradientTape`` (it calls ``Variable.ref()``, which Keras 3 variables lack)
and ``hvd.broadcast_variables`` (fails inside ``tf.function``); we allreduce each gradient
and assign broadcast values ourselves.  XLA must stay off (``jit_compile=False``): the
Horovod ops have no XLA kernels in this build.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

from ..models.omnilearn import OmniLearn


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the job.

    Attributes:
        rank: global worker index, 0 … size-1 (rank 0 writes checkpoints and logs).
        size: number of workers.
        local_rank: index among the workers on this node (selects the GPU).
        horovod: True when Horovod was initialised (even with size 1).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    horovod: bool = False

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """More than one worker: gradients must be averaged."""
        return self.size > 1


def _hvd() -> Any:
    import horovod.tensorflow as hvd  # imported lazily: optional dependency

    return hvd


def horovod_available() -> bool:
    """Whether ``horovod.tensorflow`` can be imported (see ``scripts/install_horovod.sh``)."""
    try:
        _hvd()
    except ImportError:
        return False
    return True


def init(pin_gpu: bool = True) -> DistContext:
    """Initialise Horovod if it is installed and return this worker's :class:`DistContext`.

    Without Horovod (not installed, or ``OMNILEARN_NO_HOROVOD=1``) this is a single process:
    rank 0, size 1.  A process started without ``horovodrun``/``srun`` initialises Horovod
    with size 1, which is the same thing.

    With ``pin_gpu`` and GPUs present, each worker sees only GPU ``local_rank`` (modulo the
    visible count, so a scheduler that already hands one GPU per task also works), with
    memory growth so that TF does not grab all of it up front.  Call this before any
    TensorFlow op runs: devices cannot be configured afterwards.
    """
    ctx = DistContext()
    if os.environ.get("OMNILEARN_NO_HOROVOD", "0") not in ("", "0") or not horovod_available():
        return ctx
    hvd = _hvd()
    hvd.init()
    ctx = DistContext(rank=hvd.rank(), size=hvd.size(), local_rank=hvd.local_rank(), horovod=True)
    if pin_gpu:
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            for gpu in gpus:
                tf.config.experimental.set_memory_growth(gpu, True)
            tf.config.set_visible_devices(gpus[ctx.local_rank % len(gpus)], "GPU")
    return ctx


def allreduce_mean(value, name: str | None = None):
    """Average ``value`` (a tensor, or ``tf.IndexedSlices``) over all workers."""
    hvd = _hvd()
    return hvd.allreduce(value, op=hvd.Average, name=name)


def make_distributed(model: OmniLearn) -> OmniLearn:
    """Make ``model`` average its gradients and logged metrics over all workers (in place).

    Sets the instance's ``reduce_gradients`` and ``reduce_metric`` hooks, which
    ``OmniLearn.train_step``/``test_step`` call inside the compiled step.  Averaged
    gradients give every worker the same update; averaged metrics make the logged losses
    (and so early stopping and the "best" checkpoint) agree on all workers.  Returns
    ``model``.  Initial weights must still be made equal: see :class:`BroadcastState`.
    """

    def reduce_gradients(grads: list) -> list:
        # None (a variable the loss does not reach) is None on every worker: nothing to send.
        return [g if g is None else allreduce_mean(g) for g in grads]

    def reduce_metric(value):
        return allreduce_mean(value)

    # Instance attributes shadow the identity methods of OmniLearn for this model only.
    object.__setattr__(model, "reduce_gradients", reduce_gradients)
    object.__setattr__(model, "reduce_metric", reduce_metric)
    return model


def state_variables(model: OmniLearn) -> list:
    """Weights and optimizer state that must be equal on all workers.

    Not the random-seed states: each worker should draw its own diffusion times, noise and
    feature drops.
    """
    variables = list(model.weights)
    for opt in (model.optimizer, model.body_optimizer):
        if opt is not None:
            variables += list(opt.variables)
    return variables


def broadcast_state(model: OmniLearn, root_rank: int = 0) -> None:
    """Overwrite every worker's weights and optimizer state with those of ``root_rank``.

    Eager, one variable at a time: ``hvd.broadcast_variables`` does not work with Keras 3
    variables inside ``tf.function``, and this runs once per ``fit``.
    """
    hvd = _hvd()
    for i, v in enumerate(state_variables(model)):
        v.assign(hvd.broadcast(tf.convert_to_tensor(v), root_rank, name=f"omnilearn_state_{i}"))


class BroadcastState(keras.callbacks.Callback):
    """At the start of ``fit``, copy rank 0's weights and optimizer state to all workers.

    ``on_train_begin`` runs after :func:`~omnilearn.training.trainer.fit` has compiled the
    model and restored a ``last`` checkpoint, so a resumed run continues from rank 0's state.
    """

    def __init__(self, root_rank: int = 0):
        super().__init__()
        self.root_rank = root_rank

    def on_train_begin(self, logs=None):
        if getattr(self.model, "jit_compile", False):
            raise ValueError("compile with jit_compile=False under Horovod: its ops cannot be XLA-compiled")
        broadcast_state(self.model, self.root_rank)
