"""Import of the authors' released PET weights (ViniciusMikuni/OmniLearn) into an ordinary checkpoint.

The authors' JetClass checkpoint (``PET_jetclass_8_local_layer_scale_token_baseline_all.weights.h5``)
is a Keras 2 weights file in one of two layouts:

* tf.keras 2.13–2.15: top-level groups ``body``, ``classifier`` (or ``classifier_head``),
  ``generator`` (or ``generator_head``), ``ema_body``, ``ema_generator_head``, each holding
  ``_layer_checkpoint_dependencies/<layer>/vars/<i>``;
* tf_keras ≥ 2.16: ``layers/functional[_N]/layers/<layer>/vars/<i>``, one ``functional_N`` per
  sub-model. The sub-models are recognised by their bias-free layers (the generator head's first
  layer, the body's time scale/shift); of two bodies (generator heads), the lower-numbered one
  is the trained one and the other its EMA copy, which the authors create last.

Inside a sub-model the file names the layers by class with a counter in the model's layer order
(``dense``, ``dense_1``, …), which is not the order the authors' code creates them. :func:`role_table`
spells out, for every tensor, which of our weights it is and how it is rearranged:

* the authors' feature order (:data:`UPSTREAM_FEATURES`) becomes ours
  (:data:`~omnilearn.data.features.PARTICLE_FEATURES`): rows of the feature-embedding and edge
  kernels, columns of the generator output;
* their edges are ``[x_j − x_i, x_i]``, ours ``[x_i, x_j − x_i]``: the two row blocks of each
  edge kernel swap.

Every tensor of the file (but the metric counters) must find its role and every weight of our
model must be set, else :class:`UpstreamWeightsError`. The checkpoint written by
:func:`import_upstream` has the upstream variant in its config and the authors' fixed JetClass
normalisation in our feature order (:func:`upstream_normalization`), so ``--pretrained DIR``
fine-tunes from it like from any pretraining run of ours.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..config import ModelConfig
from ..data.features import JET_FEATURES, PARTICLE_FEATURES, UPSTREAM_FEATURE_ORDER
from ..data.format import Normalization
from ..errors import OmniLearnError


class UpstreamWeightsError(OmniLearnError, ValueError):
    """A file is not a weights file of the authors' PET (or not one this importer maps)."""


#: The authors' particle-feature order, in our feature names.
UPSTREAM_FEATURES: tuple[str, ...] = UPSTREAM_FEATURE_ORDER
#: ``ours[..., i] = theirs[..., FEATURE_ORDER[i]]``
FEATURE_ORDER: np.ndarray = np.array([UPSTREAM_FEATURES.index(name) for name in PARTICLE_FEATURES])

# The authors' fixed JetClass normalisation (scripts/utils.py, DataLoader), in their order;
# ΔR, charge and PID flags are not normalised.
_PARTICLE_MEAN = (0.0, 0.0, -0.0278, 1.8999407, -0.027, 2.244736, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
_PARTICLE_STD = (0.215, 0.215, 0.070, 1.2212526, 0.069, 1.2334691, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0)
_JET_MEAN = (6.18224920e02, 0.0, 1.2064709e02, 3.94133173e01)
_JET_STD = (106.71761, 0.88998157, 40.196922, 15.096386)


def upstream_normalization() -> Normalization:
    """The authors' JetClass normalisation constants, in our feature order."""
    return Normalization(
        np.asarray(_PARTICLE_MEAN, np.float32)[FEATURE_ORDER],
        np.asarray(_PARTICLE_STD, np.float32)[FEATURE_ORDER],
        np.asarray(_JET_MEAN, np.float32),
        np.asarray(_JET_STD, np.float32),
    )


# -- reading both layouts -------------------------------------------------------------------------

#: sub-models of the authors' PET, as named here
GROUPS = ("body", "classifier", "generator", "ema_body", "ema_generator")
_TF214 = {
    "body": ("body",),
    "classifier": ("classifier_head", "classifier"),
    "generator": ("generator_head", "generator"),
    "ema_body": ("ema_body",),
    "ema_generator": ("ema_generator_head",),
}
_FUNCTIONAL = re.compile(r"^functional(?:_(\d+))?$")


def _layer_arrays(group: h5py.Group) -> dict[str, list[np.ndarray]]:
    """``{layer name: [vars/0, vars/1, …]}``; a multi-head attention's four projections become
    ``<layer>/query`` … ``<layer>/output``."""
    out: dict[str, list[np.ndarray]] = {}
    for name, layer in group.items():
        if not isinstance(layer, h5py.Group):
            continue
        if "vars" in layer and len(layer["vars"]):
            out[name] = [np.asarray(layer["vars"][str(i)]) for i in range(len(layer["vars"]))]
        for sub, short in (("_query_dense", "query"), ("_key_dense", "key"), ("_value_dense", "value")):
            if sub in layer:
                out[f"{name}/{short}"] = [np.asarray(v) for _, v in sorted(layer[sub]["vars"].items())]
        if "_output_dense" in layer:
            out[f"{name}/output"] = [np.asarray(v) for _, v in sorted(layer["_output_dense"]["vars"].items())]
    return out


def _kind(arrays: dict[str, list[np.ndarray]]) -> str | None:
    """Which sub-model a tf_keras ≥ 2.16 group is, from two of its bias-free layers."""
    first = arrays.get("dense")
    if not first:
        return None
    if len(first) == 1:
        return "generator"  # its first layer is the bias-free time embedding
    if len(arrays.get("dense_6", ())) == 1:
        return "body"  # the bias-free time scale/shift
    return "classifier"


def read_groups(path: str | os.PathLike) -> tuple[str, dict[str, dict[str, list[np.ndarray]]]]:
    """The layout (``"tf214"`` or ``"tf221"``) and ``{sub-model: {layer: arrays}}`` of a weights file."""
    path = str(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise UpstreamWeightsError(f"{path}: not an HDF5 weights file ({err})") from None
    with f:
        groups: dict[str, dict[str, list[np.ndarray]]] = {}
        if "body" in f and "_layer_checkpoint_dependencies" in f["body"]:
            layout = "tf214"
            for role, names in _TF214.items():
                # a weight shared by two sub-models is stored once: take the group that holds it
                for name in names:
                    if name in f and "_layer_checkpoint_dependencies" in f[name]:
                        arrays = _layer_arrays(f[name]["_layer_checkpoint_dependencies"])
                        if arrays:
                            groups[role] = arrays
                            break
        elif "layers" in f and any(_FUNCTIONAL.match(k) for k in f["layers"]):
            layout = "tf221"
            found: dict[str, list[dict]] = {}
            numbered = sorted(
                (int(m.group(1) or 0), k)
                for k in f["layers"]
                if (m := _FUNCTIONAL.match(k)) and "layers" in f["layers"][k]
            )
            for _, key in numbered:
                arrays = _layer_arrays(f["layers"][key]["layers"])
                kind = _kind(arrays)
                if kind is not None:
                    found.setdefault(kind, []).append(arrays)
            for kind, parts in found.items():
                groups[kind] = parts[0]
                if len(parts) > 1 and kind in ("body", "generator"):
                    groups[f"ema_{kind}"] = parts[1]
        else:
            raise UpstreamWeightsError(
                f"{path}: not a weights file of the authors' PET: expected the groups body/, classifier/, "
                f"generator/ (tf.keras 2.13-2.15) or layers/functional…/ (tf_keras >= 2.16); found {sorted(f)[:8]}"
            )
    missing = [g for g in ("body", "classifier", "generator") if g not in groups]
    if missing:
        raise UpstreamWeightsError(f"{path}: no {', '.join(missing)} weights found in its {layout} layout")
    return layout, groups


# -- the role table -------------------------------------------------------------------------------


def _n(base: str, i: int) -> str:
    """Keras' counter names: ``dense``, ``dense_1``, ``dense_2``, …"""
    return base if i == 0 else f"{base}_{i}"


@dataclass(frozen=True)
class Role:
    """One layer of the authors' file and the layer of ours it fills.

    ``ours``: the layer path in our sub-model (``feature_embedding/dense_0``); ``kind``: what the
    vars are (``dense``: kernel[, bias]; ``norm``: gamma, beta; ``scale``: gamma; ``attention``: the
    four projections); ``rows``/``cols``: a rearrangement (``features``: the authors' feature
    order → ours; ``edges``: swap the two row blocks and, with ``edge_features``, reorder the
    features within each block).
    """

    theirs: str
    ours: str
    kind: str = "dense"
    rows: str | None = None
    cols: str | None = None


def _block_roles(prefix: str, i: int, norms: list[int], scales: tuple[int, int], dense: tuple[int, int]) -> list[Role]:
    """A transformer block: ``norms`` the GroupNorm counters of (input[, post-attention], MLP)."""
    names = ["norm_in", "norm_attn", "norm_mlp"] if len(norms) == 3 else ["norm_in", "norm_mlp"]
    roles = [Role(_n("group_normalization", k), f"{prefix}/{n}", "norm") for k, n in zip(norms, names)]
    roles.append(Role(_n("multi_head_attention", i), f"{prefix}/attention", "attention"))
    roles += [
        Role(_n("layer_scale", scales[0]), f"{prefix}/scale_attn", "scale"),
        Role(_n("layer_scale", scales[1]), f"{prefix}/scale_mlp", "scale"),
        Role(_n("dense", dense[0]), f"{prefix}/mlp_in"),
        Role(_n("dense", dense[1]), f"{prefix}/mlp_out"),
    ]
    return roles


def role_table(cfg: ModelConfig) -> dict[str, list[Role]]:
    """Every tensor of the authors' body, classifier head and generator head → our weight.

    The counters follow the layer order of the authors' functional models (``upstream_pet_weights.json``
    of the parity fixture lists it): in the body, the first edge convolution comes before the
    feature embedding, then the time embedding, the time scale/shift, the second edge
    convolution and the blocks.
    """
    if cfg.num_local != 2 or not cfg.local:
        raise UpstreamWeightsError("only the authors' configuration with 2 local layers is mapped")
    body = [
        Role("dense", "local_0/net/dense_0", rows="edge_features"),
        Role("dense_1", "local_0/net/dense_1"),
        Role("dense_2", "feature_embedding/dense_0", rows="features"),
        Role("dense_3", "feature_embedding/dense_1"),
        Role("dense_4", "time_embedding/net/dense_0"),
        Role("dense_5", "time_embedding/net/dense_1"),
        Role("dense_6", "time_scale_shift"),
        Role("dense_7", "local_1/net/dense_0", rows="edges"),
        Role("dense_8", "local_1/net/dense_1"),
    ]
    for i in range(cfg.num_layers):
        body += _block_roles(f"transformer_{i}", i, [2 * i, 2 * i + 1], (2 * i, 2 * i + 1), (9 + 2 * i, 10 + 2 * i))
    classifier = [Role("dense", "jet_embedding")]
    for j in range(cfg.num_class_layers):
        classifier += _block_roles(
            f"class_block_{j}", j, [3 * j, 3 * j + 1, 3 * j + 2], (2 * j, 2 * j + 1), (1 + 2 * j, 2 + 2 * j)
        )
    last = 2 * cfg.num_class_layers
    classifier += [
        Role(_n("group_normalization", 3 * cfg.num_class_layers), "class_norm", "norm"),
        Role(_n("dense", last + 1), "class_output"),
        Role(_n("dense", last + 2), "jet_regression"),
    ]
    generator = [
        Role("dense", "time_embedding/net/dense_0"),
        Role("dense_1", "time_embedding/net/dense_1"),
        Role("dense_2", "jet_embedding"),
        Role("dense_3", "condition/dense_0"),
        Role("dense_4", "label_embedding"),
        Role("dense_5", "condition/dense_1"),
    ]
    for j in range(cfg.num_gen_layers):
        generator += _block_roles(f"gen_block_{j}", j, [2 * j, 2 * j + 1], (2 * j, 2 * j + 1), (6 + 2 * j, 7 + 2 * j))
    generator += [
        Role(_n("group_normalization", 2 * cfg.num_gen_layers), "gen_norm", "norm"),
        Role(_n("dense", 6 + 2 * cfg.num_gen_layers), "gen_output", cols="features"),
    ]
    return {"body": body, "classifier": classifier, "generator": generator}


def _rearrange(array: np.ndarray, how: str | None, axis: int) -> np.ndarray:
    if how is None:
        return array
    if how == "features":
        return np.take(array, FEATURE_ORDER, axis=axis)
    half = array.shape[axis] // 2
    # theirs: [x_j − x_i, x_i]; ours: [x_i, x_j − x_i]
    diff, centre = np.take(array, np.arange(half), axis=axis), np.take(array, np.arange(half, 2 * half), axis=axis)
    if how == "edge_features":
        diff, centre = np.take(diff, FEATURE_ORDER, axis=axis), np.take(centre, FEATURE_ORDER, axis=axis)
    return np.concatenate([centre, diff], axis=axis)


def _sublayer(model, path: str):
    layer = model.get_layer(path.split("/")[0])
    for part in path.split("/")[1:]:
        layer = getattr(layer, part)
    return layer


def _targets(layer, kind: str) -> list:
    """The variables of our ``layer`` in the order of the authors' vars."""
    if kind == "attention":
        att = layer
        return [
            (name, v)
            for name, dense in (
                ("query", att._query_dense),
                ("key", att._key_dense),
                ("value", att._value_dense),
                ("output", att._output_dense),
            )
            for v in [dense.kernel] + ([dense.bias] if dense.bias is not None else [])
        ]
    if kind == "norm":
        return [(None, layer.gamma), (None, layer.beta)]
    if kind == "scale":
        return [(None, layer.gamma)]
    return [(None, layer.kernel)] + ([(None, layer.bias)] if layer.bias is not None else [])


def assign(model, part: str, arrays: dict[str, list[np.ndarray]], roles: list[Role], source: str) -> None:
    """Set every weight of ``model`` (one of our sub-models) from the authors' ``arrays`` by ``roles``.

    Raises :class:`UpstreamWeightsError` for a missing or extra tensor or a shape mismatch.
    """
    used: set[str] = set()
    seen: set[int] = set()
    for role in roles:
        targets: dict[str | None, list] = {}
        for sub, var in _targets(_sublayer(model, role.ours), role.kind):
            targets.setdefault(sub, []).append(var)
        for sub, variables in targets.items():
            key = role.theirs if sub is None else f"{role.theirs}/{sub}"
            values = arrays.get(key)
            if values is None:
                raise UpstreamWeightsError(f"{source}: {part} has no layer '{key}' (for our {role.ours})")
            if len(values) != len(variables):
                raise UpstreamWeightsError(
                    f"{source}: {part}/{key} has {len(values)} tensors, our {role.ours} {len(variables)}"
                )
            for value, var in zip(values, variables):
                if role.kind == "dense":  # kernel (in, out) or bias (out,)
                    if value.ndim == 2:
                        value = _rearrange(value, role.rows, 0)
                    value = _rearrange(value, role.cols, value.ndim - 1)
                if tuple(value.shape) != tuple(var.shape):
                    raise UpstreamWeightsError(
                        f"{source}: {part}/{key} has shape {value.shape}, our {role.ours} needs {tuple(var.shape)}"
                    )
                var.assign(value.astype(np.float32))
                seen.add(id(var))
            used.add(key)
    extra = sorted(set(arrays) - used)
    if extra:
        raise UpstreamWeightsError(f"{source}: {part} holds layers this importer does not map: {extra[:6]}")
    unset = [v.path for v in model.weights if id(v) not in seen]
    if unset:
        raise UpstreamWeightsError(f"{source}: no tensor for our {part} weights {unset[:6]}")


# -- the checkpoint ---------------------------------------------------------------------------------


def config_from(groups: dict[str, dict[str, list[np.ndarray]]]) -> ModelConfig:
    """The :class:`ModelConfig` (upstream variant) whose shapes the file's tensors have."""

    def blocks(part: str) -> int:
        return sum(1 for k in groups[part] if re.fullmatch(r"multi_head_attention(_\d+)?/query", k))

    try:
        body, cls, gen = groups["body"], groups["classifier"], groups["generator"]
        dim = body["dense_3"][0].shape[1]
        heads = body["multi_head_attention/query"][0].shape[1]
        last = 2 * blocks("classifier")
        return ModelConfig.upstream(
            num_feat=body["dense_2"][0].shape[0],
            num_jet=cls["dense"][0].shape[0],
            num_classes=cls[_n("dense", last + 1)][0].shape[1],
            projection_dim=dim,
            num_heads=heads,
            num_layers=blocks("body"),
            num_class_layers=blocks("classifier"),
            num_gen_layers=blocks("generator"),
            num_fourier=gen["dense"][0].shape[0],
        )
    except (KeyError, IndexError) as err:
        raise UpstreamWeightsError(f"the file's layers do not have the authors' PET structure (no {err})") from None


def load_upstream(path: str | os.PathLike, *, ema: bool = False, mode: str = "all"):
    """Our :class:`~omnilearn.models.omnilearn.OmniLearn` (upstream variant) with the authors' weights.

    ``ema``: the body and generator head take the authors' EMA copies (what they generate
    with); the classifier head is always the trained one. Either way our EMA copies (the
    sampler's) are the authors' EMA copies when the file has them.
    """
    return _load(path, ema, mode)[0]


def _load(path: str | os.PathLike, ema: bool, mode: str):
    from .omnilearn import OmniLearn

    source = str(path)
    layout, groups = read_groups(path)
    cfg = config_from(groups)
    if cfg.num_feat != len(UPSTREAM_FEATURES) or cfg.num_jet != len(JET_FEATURES):
        raise UpstreamWeightsError(
            f"{source}: {cfg.num_feat} particle / {cfg.num_jet} jet features; the importer maps the "
            f"authors' {len(UPSTREAM_FEATURES)} / {len(JET_FEATURES)}"
        )
    if ema and not ("ema_body" in groups and "ema_generator" in groups):
        raise UpstreamWeightsError(f"{source}: no EMA copies (ema_body, ema_generator_head) in the file")
    model = OmniLearn(cfg, mode=mode)
    table = role_table(cfg)
    sources = {
        "body": "ema_body" if ema else "body",
        "classifier": "classifier",
        "generator": "ema_generator" if ema else "generator",
    }
    for part, roles in table.items():
        assign(getattr(model, part), sources[part], groups[sources[part]], roles, source)
    if model.has_ema:  # our EMA copies: the authors' (what they generate with)
        if "ema_body" in groups and "ema_generator" in groups:
            assign(model.ema_body, "ema_body", groups["ema_body"], table["body"], source)
            assign(model.ema_generator, "ema_generator", groups["ema_generator"], table["generator"], source)
        else:
            model.reset_ema()
    return model, layout


def import_upstream(path: str | os.PathLike, outdir: str | os.PathLike, *, ema: bool = False) -> Path:
    """Write the authors' weights file ``path`` as a checkpoint directory ``outdir`` of ours."""
    model, layout = _load(path, ema, "all")
    cfg = model.model_config
    classes = [f"upstream_{i}" for i in range(cfg.num_classes)]
    return model.save_checkpoint(
        outdir,
        normalization=upstream_normalization(),
        classes=classes,
        data={
            "dataset": "jetclass",
            "num_particles": 150,
            "num_features": cfg.num_feat,
            "classes": classes,
            "pretrained": None,
            "imported_from": str(path),
            "layout": layout,
            "ema": bool(ema),
        },
    )
