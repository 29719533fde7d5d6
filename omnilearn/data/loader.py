"""Streaming ``tf.data`` loader for unified HDF5 files (see :mod:`omnilearn.data.format`).

Nothing is ever loaded whole: JetClass is 100 M jets x 150 particles x 13 features (~800 GB).
The jets of all files, taken in order, are split into ``num_workers`` contiguous shards; each
worker reads only its shard, in contiguous chunks of ``chunk_size`` jets (aligned to multiples
of ``chunk_size`` inside each file, so reads follow the HDF5 chunk layout).

Per epoch the chunk order is permuted (seeded by ``(seed, epoch, rank)``) and the jets pass
through a preallocated shuffle buffer of ``shuffle_buffer`` jets from which batches are drawn
at random, as ``tf.data.Dataset.shuffle`` does, but in numpy on whole batches instead of per
jet. Each chunk is checked (NaN/inf, labels, jets without particles), masked and normalised
in place in that buffer as it arrives; a Python generator does all of this and ``tf.data``
only hands the batches over and prefetches (a ``tf.data`` map on whole batches measured
slower: every TF op allocates fresh batch-sized tensors, and page faults dominate).

Batches are dicts::

    particles  (B, P, F) float32  normalised real particles, padding exactly 0
    mask       (B, P)    float32  1 for real particles (feature row not all zero before
                                  normalisation), 0 for padding
    jet        (B, 4)    float32  normalised jet pT, eta, mass, multiplicity
    label      (B, C)    float32  one-hot class
    weight     (B,)      float32  per-jet weight, ones when a file has none
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import h5py
import numpy as np
import tensorflow as tf

from .features import JET_FEATURES
from .format import DataFormatError, FileInfo, Normalization, inspect_file
from .padding import trim_padding

PathLike = str | os.PathLike

#: Default number of jets in the shuffle buffer; with one chunk on top the buffer holds
#: 8192 + 4096 jets, ~96 MB at 150 particles x 13 features.
DEFAULT_SHUFFLE_BUFFER = 8192

_NUM_JET = len(JET_FEATURES)
#: :meth:`JetLoader.check_values` shows a progress bar above this many jets.
PROGRESS_JETS = 1_000_000


@dataclass(frozen=True)
class Chunk:
    """Jets ``start:stop`` (local indices) of file number ``file``; one contiguous read."""

    file: int
    start: int
    stop: int


def shard_range(total: int, rank: int, num_workers: int) -> tuple[int, int]:
    """Global jet range ``[start, stop)`` of worker ``rank``.

    The ``num_workers`` ranges tile ``[0, total)`` contiguously and their sizes differ by at
    most 1 (``floor`` or ``ceil`` of ``total / num_workers``).
    """
    if not 0 <= rank < num_workers:
        raise ValueError(f"rank {rank} outside 0..{num_workers - 1}")
    return rank * total // num_workers, (rank + 1) * total // num_workers


def plan_chunks(sizes: Sequence[int], start: int, stop: int, chunk_size: int) -> list[Chunk]:
    """Split the global range ``[start, stop)`` of the concatenated files into chunks.

    A chunk never crosses a file boundary and, inside a file, chunk boundaries sit at
    multiples of ``chunk_size`` (only the ends of the range are cut off-grid).
    """
    chunks: list[Chunk] = []
    offset = 0
    for i, n in enumerate(sizes):
        a, b = max(start, offset) - offset, min(stop, offset + n) - offset
        offset += n
        if a >= b:
            continue
        edge = a
        while edge < b:
            nxt = min(b, (edge // chunk_size + 1) * chunk_size)
            chunks.append(Chunk(i, edge, nxt))
            edge = nxt
    return chunks


def _refcount(obj: object) -> int:
    # always called the same way, so the references of the call itself cancel in comparisons
    return sys.getrefcount(obj)


class _BatchPool:
    """Recycles the memory of batches that nobody references any more.

    A batch lives in one block of bytes that owns its memory; every array cut from it, and
    every view TF or the user takes of those, references that owner (numpy points views at
    the owning array). So when the owner's reference count is back to the pool's own, every
    tensor built on it is gone and the memory can be rewritten. Fresh memory costs a page
    fault per 4 KiB, which here cost more than filling the batch. Arrays are 64-byte
    aligned, which lets TF wrap them as tensors without copying.
    """

    ALIGN = 64
    #: idle blocks kept for reuse; more are released to the allocator
    KEEP = 8

    def __init__(self, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]):
        self.layout: dict[str, tuple[int, tuple[int, ...], np.dtype]] = {}
        offset = 0
        for name, (shape, dtype) in shapes.items():
            dtype = np.dtype(dtype)
            self.layout[name] = (offset, shape, dtype)
            nbytes = int(np.prod(shape)) * dtype.itemsize
            offset += -(-nbytes // self.ALIGN) * self.ALIGN
        self.nbytes = offset
        self._blocks: list[np.ndarray] = []
        self._idle_refs: int | None = None  # refcount of a block only the pool holds

    def _block(self) -> np.ndarray:
        idle = [block for block in self._blocks if _refcount(block) == self._idle_refs]
        if idle:
            block = idle[0]
            extra = {id(b) for b in idle[1 + self.KEEP :]}
            if extra:
                self._blocks = [b for b in self._blocks if id(b) not in extra]
            return block
        block = np.empty(self.nbytes + self.ALIGN, np.uint8)
        self._blocks.append(block)
        if self._idle_refs is None:
            self._idle_refs = _refcount(block)  # list entry + this local, as in the scan
        return block

    def batch(self, k: int) -> dict[str, np.ndarray]:
        """Uninitialised arrays for a batch of ``k`` rows (k <= the batch size of the layout)."""
        block = self._block()
        start = -block.ctypes.data % self.ALIGN
        out = {}
        for name, (offset, shape, dtype) in self.layout.items():
            nbytes = int(np.prod(shape)) * dtype.itemsize
            out[name] = block[start + offset : start + offset + nbytes].view(dtype).reshape(shape)[:k]
        return out


class _JetBuffer:
    """Preallocated arrays for up to ``capacity`` normalised jets, filled by whole-chunk reads.

    Filling normalises in place, so every later step only moves finished rows. Batches leave
    either in order (FIFO, via ``head``) or as a uniform random draw of rows whose holes are
    refilled from the tail, so the live rows stay contiguous in ``[head, n)``.

    Fresh pages cost more than the arithmetic here (page faults dominated a first version),
    so temporaries live in scratch arrays and batches come from a :class:`_BatchPool`. A
    plain reused output buffer would be wrong: TF wraps aligned numpy memory without copying,
    so it would rewrite batches already handed out.
    """

    #: jets normalised per step: small enough that the temporaries stay in cache
    BLOCK = 64

    def __init__(
        self,
        capacity: int,
        batch_size: int,
        num_particles: int,
        num_features: int,
        norm: Normalization,
        num_classes: int,
    ):
        P, F = num_particles, num_features

        def arrays(n: int) -> tuple[np.ndarray, ...]:
            return (
                np.empty((n, P, F), np.float32),
                np.empty((n, P), np.float32),
                np.empty((n, _NUM_JET), np.float32),
                np.empty((n,), np.int32),
                np.empty((n,), np.float32),
            )

        self.arrays = arrays(capacity)  # particles, mask, jet, pid, weight
        self.particles, self.mask, self.jet, self.pid, self.weight = self.arrays
        self._moved = arrays(batch_size)  # rows in transit while compacting
        self._pool = _BatchPool(
            {
                "particles": ((batch_size, P, F), np.float32),
                "mask": ((batch_size, P), np.float32),
                "jet": ((batch_size, _NUM_JET), np.float32),
                "label": ((batch_size, num_classes), np.float32),
                "weight": ((batch_size,), np.float32),
                "pid": ((batch_size,), np.int32),
            }
        )
        self._eye = np.eye(num_classes, dtype=np.float32)
        self._tmp = np.empty((self.BLOCK, P, F), np.float32)
        self._rowsum = np.empty((self.BLOCK, P), np.float32)
        self.head = 0  # first live row (FIFO mode only)
        self.n = 0  # end of the live rows
        self.num_classes = num_classes
        self._mean = norm.particle_mean.astype(np.float32)
        # std tiled over particles so the division runs on long rows of P*F floats
        self._std = np.tile(norm.particle_std.astype(np.float32), P)
        self._jet_mean = norm.jet_mean.astype(np.float32)
        self._jet_std = norm.jet_std.astype(np.float32)
        self._ones = np.ones(F, np.float32)

    def __len__(self) -> int:
        return self.n - self.head

    def fill(self, f: h5py.File, path: str, chunk: Chunk) -> None:
        """Append jets ``chunk.start:chunk.stop`` of the open file ``f``, checked and normalised."""
        if self.head:
            # Move the few leftover rows (< one batch) to the front before appending.
            live = slice(self.head, self.n)
            for arr in self.arrays:
                arr[: len(self)] = arr[live]
            self.n -= self.head
            self.head = 0
        m = chunk.stop - chunk.start
        dst = np.s_[self.n : self.n + m]
        src = np.s_[chunk.start : chunk.stop]
        num_p = self.particles.shape[1]
        # read_direct writes straight into the buffer (HDF5 converts dtypes if a file differs).
        f["data"].read_direct(self.particles, np.s_[chunk.start : chunk.stop, :num_p], dst)
        f["jet"].read_direct(self.jet, src, dst)
        f["pid"].read_direct(self.pid, src, dst)
        if "weight" in f:
            f["weight"].read_direct(self.weight, src, dst)
        else:
            self.weight[dst] = 1.0
        self._check(path, chunk, dst)
        self._normalise(self.n, self.n + m)
        empty = ~self.mask[dst].any(axis=1)
        if empty.any():  # all-masked attention gives NaN: say so here rather than as a diverged run
            raise DataFormatError(
                f"{path}: jets {chunk.start}..{chunk.stop - 1}: {int(empty.sum())} jets without any particle, "
                f"first at jet {chunk.start + int(np.argmax(empty))}"
            )
        self.n += m

    def _check(self, path: str, chunk: Chunk, dst: slice) -> None:
        where = f"{path}: jets {chunk.start}..{chunk.stop - 1}"
        m = chunk.stop - chunk.start
        for name, arr in (("data", self.particles), ("jet", self.jet), ("weight", self.weight)):
            block = arr[dst]
            # A float32 sum is one fast pass and propagates NaN/inf; locate only if it fails
            # (it can also overflow on huge finite values, hence the second look).
            if not np.isfinite(block.sum()):
                bad = ~np.isfinite(block.reshape(m, -1)).all(axis=1)
                if bad.any():
                    first = chunk.start + int(np.argmax(bad))
                    raise DataFormatError(
                        f"{where}: non-finite values in '{name}' ({int(bad.sum())} jets, first at jet {first})"
                    )
        pid = self.pid[dst]
        if pid.min() < 0 or pid.max() >= self.num_classes:
            raise DataFormatError(
                f"{where}: 'pid' outside 0..{self.num_classes - 1} (min {pid.min()}, max {pid.max()})"
            )

    def _normalise(self, start: int, stop: int) -> None:
        """Mask and normalise rows ``start:stop`` in place: real ``(x - mean)/std``, padding +0."""
        P, F = self.particles.shape[1:]
        for a in range(start, stop, self.BLOCK):
            k = min(self.BLOCK, stop - a)
            x, mask, tmp = self.particles[a : a + k], self.mask[a : a + k], self._tmp[:k]
            # sum_f |x_f| (a BLAS matvec) is > 0 iff the feature row is not all zero
            np.abs(x, out=tmp)
            np.matmul(tmp, self._ones, out=self._rowsum[:k])
            np.greater(self._rowsum[:k], 0, out=mask)
            # (x - mask*mean)/std: (x-mean)/std on real rows and exactly +0.0 on padding
            np.multiply(mask[:, :, None], self._mean, out=tmp)
            flat = x.reshape(k, P * F)
            flat -= tmp.reshape(k, P * F)
            flat /= self._std
        jet = self.jet[start:stop]
        jet -= self._jet_mean
        jet /= self._jet_std

    def _emit(self, k: int, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Batch arrays (from the pool) holding buffer rows ``rows`` (or the next ``k`` in order)."""
        out = self._pool.batch(k)
        for src, name in zip(self.arrays, ("particles", "mask", "jet", "pid", "weight")):
            if rows is None:
                out[name][...] = src[self.head : self.head + k]
            else:
                # indices are in range; mode="raise" would stage `out` in a temporary
                np.take(src, rows, axis=0, out=out[name], mode="clip")
        np.take(self._eye, out.pop("pid"), axis=0, out=out["label"], mode="clip")
        return out

    def take_front(self, k: int) -> dict[str, np.ndarray]:
        """The next ``k`` rows in file order."""
        batch = self._emit(k)
        self.head += k
        return batch

    def take_random(self, k: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``k`` distinct rows drawn uniformly from the buffer, then compacted."""
        n = self.n
        return self._take_rows(rng.choice(n, size=k, replace=False) if k < n else rng.permutation(n))

    def take_similar(self, k: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``k`` rows of similar multiplicity: the k neighbours of a random jet in multiplicity order."""
        n = self.n
        if k >= n:
            return self.take_random(k, rng)
        order = np.lexsort((rng.random(n), self.mask[:n].sum(axis=1)))  # random among equal multiplicity
        start = min(max(int(rng.integers(n)) - k // 2, 0), n - k)
        return self._take_rows(rng.permutation(order[start : start + k]))

    def take_sorted(self, k: int) -> dict[str, np.ndarray]:
        """The ``k`` rows of lowest multiplicity (ties in buffer order): deterministic buckets."""
        order = np.argsort(self.mask[: self.n].sum(axis=1), kind="stable")
        return self._take_rows(order[:k])

    def _take_rows(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """The batch of buffer rows ``idx`` (distinct), then the buffer compacted."""
        n, k = self.n, len(idx)
        batch = self._emit(k, idx)
        # Refill the holes left below the new end from the surviving rows above it.
        tail = n - k
        in_tail = idx >= tail
        taken = np.zeros(k, dtype=bool)
        taken[idx[in_tail] - tail] = True
        holes = idx[~in_tail]
        movers = tail + np.flatnonzero(~taken)  # as many as holes
        if len(holes):
            for arr, tmp in zip(self.arrays, self._moved):
                moved = np.take(arr, movers, axis=0, out=tmp[: len(movers)], mode="clip")
                arr[holes] = moved
        self.n = tail
        return batch


class JetLoader:
    """Streams unified files as normalised, shuffled, sharded batches.

    Args:
        paths: one unified file or a list; all must agree on particles P, features F, classes.
        batch_size: jets per batch B.
        num_classes: width C of the one-hot label (default: number of classes in the files;
            may be larger, e.g. to match a model head).
        shuffle: permute chunk order per epoch and draw batches from a shuffle buffer;
            False gives file order.
        seed: base seed; epoch ``e`` of rank ``r`` uses ``(seed, e, r)``.
        rank, num_workers: Horovod rank and size; this worker reads shard ``rank``.
        normalization: statistics to apply (a :class:`Normalization` or the path of one saved
            with :meth:`Normalization.save`); default: the first file's attributes.
        chunk_size: jets per HDF5 read.
        shuffle_buffer: jets held in the shuffle buffer (at least one batch is used).
        drop_remainder: drop the last incomplete batch of an epoch (static batch dimension).
        repeat: repeat epochs forever (each repetition reshuffles).
        num_particles: keep only the first P' particles (files are pT-sorted).
        trim_padding: if > 0, cut each batch's particle axis after its last real particle,
            rounded up to a multiple of this (:mod:`omnilearn.data.padding`; exact, as the
            model is padding invariant, and faster); the particle axis is then dynamic.
        bucket: draw each batch from jets of similar multiplicity, so that ``trim_padding``
            cuts most of the padding. With ``shuffle``, a random jet of the shuffle buffer and
            its neighbours in multiplicity; without, deterministically the buffer's
            ``batch_size`` jets of lowest multiplicity (for inference, where only the order of
            the jets changes). Every jet is still read once per epoch, but the jets sharing a
            batch are no longer a uniform draw.

    Raises:
        DataFormatError: a file is malformed or disagrees with the first one (on construction),
            or a chunk holds NaN/inf, an out-of-range pid or a jet without particles (when that
            chunk is read, or up front with :meth:`check_values`; through ``tf.data`` it surfaces
            as ``tf.errors.InvalidArgumentError`` carrying the message, which
            :meth:`data_errors` turns back into the DataFormatError, as iterating the loader does).
    """

    def __init__(
        self,
        paths: PathLike | Sequence[PathLike],
        batch_size: int,
        *,
        num_classes: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        num_workers: int = 1,
        normalization: Normalization | PathLike | None = None,
        chunk_size: int = 4096,
        shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
        drop_remainder: bool = False,
        repeat: bool = False,
        num_particles: int | None = None,
        trim_padding: int = 0,
        bucket: bool = False,
    ):
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        self.paths: tuple[str, ...] = tuple(str(p) for p in paths)
        if not self.paths:
            raise ValueError("no input files given")
        if batch_size < 1 or chunk_size < 1:
            raise ValueError(f"batch_size ({batch_size}) and chunk_size ({chunk_size}) must be positive")
        if num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")

        self.infos: tuple[FileInfo, ...] = tuple(inspect_file(p) for p in self.paths)
        first = self.infos[0]
        for info in self.infos[1:]:
            for what in ("num_particles", "num_features", "classes"):
                if getattr(info, what) != getattr(first, what):
                    raise DataFormatError(
                        f"{info.path}: {what} {getattr(info, what)} differs from {getattr(first, what)} in {first.path}"
                    )
        self.classes: tuple[str, ...] = first.classes
        self.num_classes = len(self.classes) if num_classes is None else int(num_classes)
        if self.num_classes < len(self.classes):
            raise ValueError(f"num_classes={num_classes} is below the {len(self.classes)} classes in the files")
        self.num_features = first.num_features
        self.num_particles = first.num_particles if num_particles is None else int(num_particles)
        if not 1 <= self.num_particles <= first.num_particles:
            raise ValueError(f"num_particles={num_particles} outside 1..{first.num_particles}")

        if normalization is None:
            normalization = first.normalization
        elif not isinstance(normalization, Normalization):
            normalization = Normalization.load(normalization)
        expected = {
            "particle_mean": (self.num_features,),
            "particle_std": (self.num_features,),
            "jet_mean": (_NUM_JET,),
            "jet_std": (_NUM_JET,),
        }
        wrong = {
            k: np.shape(getattr(normalization, k))
            for k, v in expected.items()
            if np.shape(getattr(normalization, k)) != v
        }
        if wrong:
            raise ValueError(f"normalization shapes {wrong} do not match the files' {expected}")
        if not (np.all(normalization.particle_std > 0) and np.all(normalization.jet_std > 0)):
            raise ValueError("normalization has a non-positive standard deviation")
        self.normalization = normalization

        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.rank, self.num_workers = int(rank), int(num_workers)
        self.chunk_size = int(chunk_size)
        self.shuffle_buffer = max(int(shuffle_buffer), self.batch_size)
        self.drop_remainder = bool(drop_remainder)
        self.repeat = bool(repeat)
        if trim_padding < 0:
            raise ValueError(f"trim_padding must be >= 0, got {trim_padding}")
        self.trim_padding = int(trim_padding)
        self.bucket = bool(bucket)

        self.total_jets = sum(info.num_jets for info in self.infos)
        self.shard = shard_range(self.total_jets, self.rank, self.num_workers)
        self.chunks = plan_chunks([i.num_jets for i in self.infos], *self.shard, self.chunk_size)
        self._epoch = 0
        self._error: DataFormatError | None = None

    # -- sizes ---------------------------------------------------------------------------
    @property
    def num_jets(self) -> int:
        """Jets this worker reads per epoch."""
        return self.shard[1] - self.shard[0]

    @property
    def steps_per_epoch(self) -> int:
        """Batches this worker yields per epoch.

        Shards differ by up to one jet, so with several workers this can differ by one
        between ranks (Horovod needs equal step counts: see :attr:`common_steps_per_epoch`).
        """
        return self._steps(self.num_jets)

    @property
    def common_steps_per_epoch(self) -> int:
        """Batches per epoch that every rank yields (those of the smallest shard)."""
        return self._steps(self.total_jets // self.num_workers)

    def _steps(self, jets: int) -> int:
        full, rest = divmod(jets, self.batch_size)
        return full + (1 if rest and not self.drop_remainder else 0)

    def check_values(self, progress: bool | None = None) -> None:
        """Read every jet of this worker's shard once and check it as reading for training does
        (NaN/inf, labels outside 0 … C-1, jets without particles), so that a bad file stops a run
        before it starts rather than when the loader first reaches the bad chunk.

        Training does this for its validation files (small next to the training set: one pass
        costs less than the validation of one epoch).

        Args:
            progress: show a ``tqdm`` bar; None shows one only for more than
                :data:`PROGRESS_JETS` jets.

        Raises:
            DataFormatError: naming the file and the first bad jet.
        """
        if progress is None:
            progress = self.num_jets > PROGRESS_JETS
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=self.num_jets, unit="jet", desc=f"checking {os.path.basename(self.paths[0])}")
        buf = _JetBuffer(
            self.chunk_size, 1, self.num_particles, self.num_features, self.normalization, self.num_classes
        )
        try:
            with contextlib.ExitStack() as stack:
                handles: dict[int, h5py.File] = {}
                for chunk in self.chunks:
                    if chunk.file not in handles:
                        handles[chunk.file] = stack.enter_context(h5py.File(self.paths[chunk.file], "r"))
                    buf.head = buf.n = 0
                    buf.fill(handles[chunk.file], self.paths[chunk.file], chunk)
                    if bar is not None:
                        bar.update(chunk.stop - chunk.start)
        finally:
            if bar is not None:
                bar.close()

    @contextlib.contextmanager
    def data_errors(self, *others: JetLoader) -> Iterator[None]:
        """Inside this block, an error of ``tf.data`` caused by a bad chunk of this loader (or of
        ``others``) is re-raised as the original :class:`DataFormatError` (``tf.data`` keeps only
        its text, inside a long TensorFlow error)."""
        try:
            yield
        except tf.errors.OpError as err:
            for loader in (self, *others):
                if loader._error is not None:
                    raise loader._error from err
            raise

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass over the data epoch ``epoch`` (each pass then counts up)."""
        self._epoch = int(epoch)

    # -- reading -------------------------------------------------------------------------
    def epoch_batches(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        """Finished numpy batches of one epoch of this worker's shard.

        Args:
            epoch: selects the shuffling (with ``seed`` and ``rank``).

        Yields:
            dicts as in the module docstring (numpy arrays, batch dimension B).
        """
        rng = np.random.default_rng([self.seed, epoch, self.rank])
        order = rng.permutation(len(self.chunks)) if self.shuffle else range(len(self.chunks))
        bsz = self.batch_size
        # Draw batches only once the buffer is full so each batch mixes several chunks.
        threshold = self.shuffle_buffer if self.shuffle or self.bucket else bsz
        buf = _JetBuffer(
            threshold + self.chunk_size,
            bsz,
            self.num_particles,
            self.num_features,
            self.normalization,
            self.num_classes,
        )

        draw = buf.take_similar if self.bucket else buf.take_random
        take = (lambda k: draw(k, rng)) if self.shuffle else (buf.take_sorted if self.bucket else buf.take_front)

        with contextlib.ExitStack() as stack:
            handles: dict[int, h5py.File] = {}
            for ci in order:
                chunk = self.chunks[ci]
                if chunk.file not in handles:
                    handles[chunk.file] = stack.enter_context(h5py.File(self.paths[chunk.file], "r"))
                buf.fill(handles[chunk.file], self.paths[chunk.file], chunk)
                while len(buf) >= threshold:
                    yield take(bsz)
        while len(buf) >= bsz:
            yield take(bsz)
        if len(buf) and not self.drop_remainder:
            yield take(len(buf))

    def _generate(self) -> Iterator[dict[str, np.ndarray]]:
        # tf.data calls this once per pass (also per repetition), so each pass is a new epoch.
        epoch, self._epoch = self._epoch, self._epoch + 1
        try:
            yield from self.epoch_batches(epoch)
        except DataFormatError as err:
            self._error = err  # tf.data keeps only the message; __iter__ re-raises the original
            raise

    @property
    def element_spec(self) -> dict[str, tf.TensorSpec]:
        """Shapes and dtypes of a batch (batch dimension static only with drop_remainder)."""
        bdim = self.batch_size if self.drop_remainder else None
        return {
            "particles": tf.TensorSpec((bdim, self.num_particles, self.num_features), tf.float32),
            "mask": tf.TensorSpec((bdim, self.num_particles), tf.float32),
            "jet": tf.TensorSpec((bdim, _NUM_JET), tf.float32),
            "label": tf.TensorSpec((bdim, self.num_classes), tf.float32),
            "weight": tf.TensorSpec((bdim,), tf.float32),
        }

    def dataset(self) -> tf.data.Dataset:
        """The ``tf.data`` pipeline yielding dict batches (see the module docstring).

        All work happens in numpy inside the generator (measured faster here than a
        ``tf.data`` map on whole batches); ``tf.data`` only hands batches over and prefetches.
        """
        ds = tf.data.Dataset.from_generator(self._generate, output_signature=self.element_spec)
        if self.trim_padding:
            ds = ds.map(lambda batch: trim_padding(batch, self.trim_padding))
        if self.repeat:
            ds = ds.repeat()
        return ds.prefetch(tf.data.AUTOTUNE)

    def __iter__(self) -> Iterator[dict[str, tf.Tensor]]:
        """Iterate :meth:`dataset`, re-raising data errors as :class:`DataFormatError`."""
        self._error = None
        try:
            yield from self.dataset()
        except tf.errors.OpError as err:
            if self._error is not None:
                raise self._error from err
            raise

    def __len__(self) -> int:
        return self.steps_per_epoch


def make_dataset(paths: PathLike | Sequence[PathLike], batch_size: int, **options) -> tf.data.Dataset:
    """``JetLoader(paths, batch_size, **options).dataset()``: dict batches of particles/mask/jet/label/weight."""
    return JetLoader(paths, batch_size, **options).dataset()
