"""Generation with the generator head: DDIM sampler, jet-level diffusion model, plots."""
