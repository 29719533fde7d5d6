"""Generation with the generator head: the diffusion sampler and the jet-level model."""
