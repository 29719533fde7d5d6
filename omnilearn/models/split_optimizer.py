"""One optimizer for the PET body and one for the heads, shared by the models that fine-tune."""

from __future__ import annotations


class BodyHeadOptimizers:
    """Mixin for a Keras model with a ``body``: ``optimizer`` updates the heads and
    ``body_optimizer`` the body (fine-tuning at a lower rate), or ``optimizer`` both when
    ``body_optimizer`` is None."""

    body_optimizer = None

    def build_optimizers(self, body_optimizer, body_vars: list, head_vars: list) -> None:
        self.body_optimizer = body_optimizer
        if body_optimizer is None:
            self.optimizer.build(body_vars + head_vars)
        else:
            self.optimizer.build(head_vars)
            body_optimizer.build(body_vars)

    def apply_split(self, grads: list, body_vars: list, head_vars: list) -> None:
        """One step with ``grads`` of ``body_vars + head_vars`` (in that order)."""
        n = len(body_vars)
        if self.body_optimizer is None:
            self.optimizer.apply(grads, body_vars + head_vars)
        else:
            self.body_optimizer.apply(grads[:n], body_vars)
            self.optimizer.apply(grads[n:], head_vars)
