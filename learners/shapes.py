"""The shapes world (sequential-task paper, CPU scale): small synthetic images of 4–5 objects, binary feature tasks.

Each image is a ``grid × grid`` board of ``cell``-pixel cells; 4 or 5 cells hold one object each. An object
has three *dimensions* — shape, colour, texture — with :data:`N_FEATURES` (10) *features* each, drawn
uniformly and independently. A *task* is a yes/no question "is there a ⟨feature⟩ object?" about one
feature of one dimension (``"is there a red object?"``). Everything is generated from ``data_seed``
with vectorized numpy: nothing is downloaded, same config ⇒ bit-identical arrays.

Objects are drawn as ``shape mask × texture pattern × colour`` inside their cell (texture modulates the
brightness between 0.35 and 1 so every shape stays visible); the background is black.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from tradeoff_gym.learners.checks import check_int

#: The three object dimensions, in the order of :attr:`ShapesData.features`' last axis.
DIMENSIONS: tuple[str, ...] = ("shape", "colour", "texture")
#: Features per dimension (the paper's 10; one binary task each).
N_FEATURES = 10

COLOUR_NAMES: tuple[str, ...] = (
    "red", "green", "blue", "yellow", "cyan", "magenta", "orange", "purple", "white", "grey",
)
_COLOURS = np.array(
    [
        [1.0, 0.1, 0.1], [0.1, 0.85, 0.1], [0.15, 0.3, 1.0], [1.0, 1.0, 0.1], [0.1, 1.0, 1.0],
        [1.0, 0.1, 1.0], [1.0, 0.55, 0.0], [0.55, 0.1, 0.9], [1.0, 1.0, 1.0], [0.55, 0.55, 0.55],
    ],
    dtype=np.float32,
)  # (10, 3) RGB in [0, 1]
SHAPE_NAMES: tuple[str, ...] = (
    "square", "disc", "triangle", "plus", "cross", "diamond", "ring", "bar", "column", "ell",
)
TEXTURE_NAMES: tuple[str, ...] = (
    "solid", "h-stripes", "v-stripes", "checker", "diagonal", "anti-diagonal", "dots", "ramp",
    "centre", "frame",
)
FEATURE_NAMES: dict[str, tuple[str, ...]] = {
    "shape": SHAPE_NAMES,
    "colour": COLOUR_NAMES,
    "texture": TEXTURE_NAMES,
}


def shape_masks(size: int) -> np.ndarray:
    """``(10, size, size)`` binary masks of the ten shapes, drawn on a ``size``-pixel square (size >= 5)."""
    r, c = np.mgrid[0:size, 0:size].astype(np.float64)  # (size, size) each
    mid = (size - 1) / 2
    dr, dc = r - mid, c - mid
    rad = np.hypot(dr, dc)
    third = size / 6
    masks = [
        np.ones_like(r, dtype=bool),  # square
        rad <= mid + 0.3,  # disc
        np.abs(dc) <= r * mid / (size - 1) + 0.01,  # triangle: apex on top
        (np.abs(dr) <= third) | (np.abs(dc) <= third),  # plus
        (np.abs(dr - dc) <= 0.8) | (np.abs(dr + dc) <= 0.8),  # cross (x)
        np.abs(dr) + np.abs(dc) <= mid + 0.3,  # diamond
        (rad <= mid + 0.3) & (rad >= mid - 1.4),  # ring
        np.abs(dr) <= third,  # bar (horizontal)
        np.abs(dc) <= third,  # column (vertical)
        (c <= 1.5 * third) | (r >= size - 1 - 1.5 * third),  # ell
    ]
    out = np.stack(masks).astype(np.float32)
    if out.shape != (N_FEATURES, size, size) or np.any(out.sum(axis=(1, 2)) < 3):
        raise ValueError(f"object size {size} is too small to draw ten distinct shapes")
    return out


def texture_patterns(size: int) -> np.ndarray:
    """``(10, size, size)`` brightness patterns in [0.35, 1] of the ten textures."""
    r, c = np.mgrid[0:size, 0:size]
    low, high = 0.35, 1.0
    mid = (size - 1) / 2
    edge = (r == 0) | (c == 0) | (r == size - 1) | (c == size - 1)
    patterns = [
        np.ones((size, size), dtype=bool),  # solid
        r % 2 == 0,  # horizontal stripes
        c % 2 == 0,  # vertical stripes
        (r + c) % 2 == 0,  # checker
        (r - c) % 3 == 0,  # diagonal
        (r + c) % 3 == 0,  # anti-diagonal
        (r % 3 == 1) & (c % 3 == 1),  # dots
        None,  # ramp, filled below
        np.maximum(np.abs(r - mid), np.abs(c - mid)) <= size / 5,  # bright centre
        edge,  # bright frame
    ]
    out = np.empty((N_FEATURES, size, size), dtype=np.float32)
    for k, pattern in enumerate(patterns):
        if pattern is None:
            out[k] = low + (high - low) * c / max(size - 1, 1)
        else:
            out[k] = np.where(pattern, high, low)
    return out


@dataclass(frozen=True)
class ShapesConfig:
    """Settings of the shapes world; validated at construction.

    Images are ``(3, grid·cell, grid·cell)`` float32; objects are ``cell − 1`` pixels wide, placed in a cell
    with a random 0/1-pixel offset. ``min_objects … max_objects`` objects per image (paper: 4–5).
    ``n_train`` training and ``n_holdout`` hold-out images, generated from ``data_seed``.
    """

    grid: int = 3
    cell: int = 8
    min_objects: int = 4
    max_objects: int = 5
    n_train: int = 4000
    n_holdout: int = 1000
    data_seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("grid", 2), ("cell", 6), ("min_objects", 1), ("n_train", 10), ("n_holdout", 10)):
            check_int(getattr(self, name), name, low)
        if not (self.min_objects <= self.max_objects <= self.grid**2):
            raise ValueError(
                f"max_objects must lie in [min_objects={self.min_objects}, grid²={self.grid**2}], "
                f"got {self.max_objects!r}"
            )
        check_int(self.data_seed, "data_seed", 0)

    @property
    def image_size(self) -> int:
        """Side of an image in pixels."""
        return self.grid * self.cell


class ShapesSplit(NamedTuple):
    """One split of the shapes world.

    ``images`` ``(N, 3, H, W)`` float32 in [0, 1]; ``features`` ``(N, max_objects, 3)`` int64 feature index per
    object and dimension, −1 for empty slots; ``present`` ``(N, 3, 10)`` bool — does the image hold an object
    with feature ``f`` of dimension ``d`` (the label of task ``(d, f)``).
    """

    images: np.ndarray
    features: np.ndarray
    present: np.ndarray


class ShapesData(NamedTuple):
    """The training and hold-out splits of one shapes world."""

    config: ShapesConfig
    train: ShapesSplit
    holdout: ShapesSplit


def render_split(config: ShapesConfig, n: int, rng: np.random.Generator) -> ShapesSplit:
    """Draw ``n`` images of the shapes world from ``rng`` (vectorized; no per-image Python loop)."""
    g, cell, k_max = config.grid, config.cell, config.max_objects
    size = cell - 1
    n_objects = rng.integers(config.min_objects, k_max + 1, size=n)  # (n,)
    # Distinct cells per image: the first k_max of a random permutation of the grid's cells.
    cells = np.argsort(rng.random((n, g * g)), axis=1)[:, :k_max]  # (n, k_max)
    features = rng.integers(0, N_FEATURES, size=(n, k_max, 3))  # (n, k_max, 3): shape, colour, texture
    offsets = rng.integers(0, cell - size + 1, size=(n, k_max, 2))  # (n, k_max, 2) row/col offset in the cell
    filled = np.arange(k_max)[None, :] < n_objects[:, None]  # (n, k_max)
    features = np.where(filled[..., None], features, -1)

    masks = shape_masks(size)  # (10, s, s)
    textures = texture_patterns(size)  # (10, s, s)
    safe = np.maximum(features, 0)
    brightness = masks[safe[..., 0]] * textures[safe[..., 2]]  # (n, k_max, s, s)
    patches = brightness[:, :, None] * _COLOURS[safe[..., 1]][..., None, None]  # (n, k_max, 3, s, s)
    patches *= filled[..., None, None, None]

    cells_canvas = np.zeros((n, g * g, 3, cell, cell), dtype=np.float32)  # (n, g², 3, cell, cell)
    rows = np.arange(n)[:, None]
    for dr in range(cell - size + 1):  # at most 2 × 2 offset combinations, each vectorized over n and objects
        for dc in range(cell - size + 1):
            hit = (offsets[..., 0] == dr) & (offsets[..., 1] == dc) & filled  # (n, k_max)
            ii, kk = np.nonzero(hit)
            cells_canvas[rows[ii, 0], cells[ii, kk], :, dr : dr + size, dc : dc + size] = patches[ii, kk]
    images = (
        cells_canvas.reshape(n, g, g, 3, cell, cell).transpose(0, 3, 1, 4, 2, 5).reshape(n, 3, g * cell, g * cell)
    )  # (n, 3, H, W)

    present = np.zeros((n, 3, N_FEATURES), dtype=bool)  # (n, 3, 10)
    ii, kk = np.nonzero(filled)
    for d in range(3):
        present[ii, d, features[ii, kk, d]] = True
    return ShapesSplit(np.ascontiguousarray(images, dtype=np.float32), features.astype(np.int64), present)


@functools.lru_cache(maxsize=4)
def make_shapes(config: ShapesConfig = ShapesConfig()) -> ShapesData:  # noqa: B008  (frozen, hashable)
    """The shapes world of ``config`` (cached: same config ⇒ the same, read-only arrays)."""
    train_seq, holdout_seq = np.random.SeedSequence([int(config.data_seed), 4]).spawn(2)
    train = render_split(config, config.n_train, np.random.default_rng(train_seq))
    holdout = render_split(config, config.n_holdout, np.random.default_rng(holdout_seq))
    for split in (train, holdout):
        for array in split:
            array.setflags(write=False)
    return ShapesData(config, train, holdout)


def task_labels(split: ShapesSplit, dimension: int, features: np.ndarray) -> np.ndarray:
    """``(N, len(features))`` bool labels of the tasks "is there a ⟨feature⟩ object?" in ``dimension``."""
    return split.present[:, dimension, np.asarray(features, dtype=np.int64)]


def check_dimension(dimension: str, field: str = "dimension") -> int:
    """The index of a dimension name in :data:`DIMENSIONS`; a ValueError naming ``field`` otherwise."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"{field} must be one of {list(DIMENSIONS)}, got {dimension!r}")
    return DIMENSIONS.index(dimension)


def balanced_indices(
    labels: np.ndarray, tasks: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one example per slot with balanced yes/no answers; vectorized over slots.

    ``labels`` ``(N, T)`` bool task labels; ``tasks`` ``(B,)`` the task of each slot. Slot ``b`` gets a
    "yes" image when ``b``'s rank among the slots of its task is even (so every task's slots alternate
    yes/no, starting with a coin flip), drawn uniformly from that task's yes (or no) images.
    Returns ``(indices (B,), targets (B,) bool)``.
    """
    tasks = np.asarray(tasks, dtype=np.int64)
    n, t = labels.shape
    order = np.argsort(tasks, kind="stable")
    sorted_tasks = tasks[order]
    first = np.searchsorted(sorted_tasks, sorted_tasks, side="left")
    rank = np.empty_like(tasks)
    rank[order] = np.arange(tasks.size) - first  # rank of each slot within its task
    flip = rng.integers(0, 2, size=t)  # (T,) per-task coin: does the first slot say yes?
    targets = ((rank + flip[tasks]) % 2 == 0)  # (B,)
    pools = _pools(labels)  # yes/no index pools
    counts = pools.counts[tasks, targets.astype(np.int64)]  # (B,)
    if np.any(counts == 0):
        raise ValueError("a task has no 'yes' or no 'no' example in the split; use more images")
    pick = np.floor(rng.random(tasks.size) * counts).astype(np.int64)  # (B,) uniform within the pool
    indices = pools.index[tasks, targets.astype(np.int64), pick]
    return indices, targets


class _Pools(NamedTuple):
    index: np.ndarray  # (T, 2, N) image indices, per task and answer (0 = no, 1 = yes), padded
    counts: np.ndarray  # (T, 2) pool sizes


def _pools(labels: np.ndarray) -> _Pools:
    """Indices of every task's yes and no images, padded to a rectangle (vectorized stable sort)."""
    n, t = labels.shape
    keys = labels.T.astype(np.int64)  # (T, N): 0 = no, 1 = yes
    index = np.argsort(keys, axis=1, kind="stable")  # (T, N): all "no" indices, then all "yes" indices
    n_yes = keys.sum(axis=1)  # (T,)
    counts = np.stack([n - n_yes, n_yes], axis=1)  # (T, 2)
    out = np.zeros((t, 2, n), dtype=np.int64)
    out[:, 0] = index
    pos = np.arange(n)[None, :] + (n - n_yes)[:, None]  # (T, N) positions of the yes block
    out[:, 1] = np.take_along_axis(index, np.minimum(pos, n - 1), axis=1)
    return _Pools(out, counts)
