"""Shared test set-up: one torch thread (2-core CI machine), ids registered."""

import torch

from tradeoff_gym import envs  # noqa: F401  (registers the environment ids)

torch.set_num_threads(1)
