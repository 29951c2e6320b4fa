"""A deterministic, vectorized synthetic drone world: the stand-in for the paper's AirSim ocean (docs/science/model.md).

By default (the paper's 2 × 2 world) every example has two stimulus inputs and four labels:

* ``gps`` ``(2,)`` — the (x, y) position, in [-1, 1]², of the area the drone is asked about: a point drawn
  uniformly inside one of the ``L = grid²`` grid cells (the *GPS cell*);
* ``image`` ``(1, H, W)`` — a grey-scale ocean view: a background (random level, random linear gradient,
  pixel "waves") with one object of ``K`` types (whale, dolphin, orca, boat — procedurally drawn
  sprites) at one of the ``L`` grid cells (the *image cell*, independent of the GPS cell), with
  position jitter, rotation, scale and contrast variation;
* labels: T1 GPS→location = the GPS cell; T2 GPS→object = the type expected in that area (a fixed
  region→type map, drawn per world); T3 image→location = the image cell; T4 image→object = the type in
  the image, which is the GPS area's expected type with probability ``region_match`` and uniform otherwise.

Two settings grow it into a larger world with the same generator (``tradeoff/Multitask-v0``'s 3 × 3 world):

* ``depth=True`` adds an output, ``depth`` (3 classes): GPS→depth = the area's depth class (a fixed region→depth
  map, drawn per world); image→depth = the sprite's size (its scale level: the three levels of ``scales``),
  which is the GPS area's depth with probability ``region_match`` and uniform otherwise;
* ``sonar_size=D > 0`` adds an input, ``sonar`` ``(D,)``: a 1-D echo trace of a *sonar contact* in its own
  grid cell, of its own type and depth — a Gaussian echo at the position of the contact's cell (location), a
  ringing at ``type + 1`` cycles per trace (object), a baseline level (depth), plus noise; the contact's type
  and depth match the GPS area's with probability ``region_match``.

Tasks are every input × output, input-major (:attr:`DroneWorldConfig.task_set`); the labels follow that order.
The extra draws come after the 2 × 2 world's, so the default world is unchanged by these settings' existence.

All randomness comes from ``torch.Generator`` objects passed in; the sprite bank is fixed (no randomness).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

from tradeoff_gym.learners.checks import check_bool, check_int, check_number, check_positive_int
from tradeoff_gym.learners.tasks import DRONE, TaskSet

OBJECT_TYPES: tuple[str, ...] = ("whale", "dolphin", "orca", "boat")
#: Depth classes of the ``depth`` output: the sprite bank's three scale levels.
N_DEPTHS = 3


class InputShape(NamedTuple):
    """One stimulus input: its name, kind (``"vector"``: ``(size,)``; ``"image"``: ``(1, size, size)``) and size."""

    name: str
    kind: str
    size: int


class DroneBatch(NamedTuple):
    """A batch of examples. ``gps`` (B, 2) float32; ``image`` (B, 1, H, W) float32; ``labels`` (B, n_tasks) int64
    in task order; ``sonar`` (B, D) float32 or ``None`` (a world without the sonar input)."""

    gps: torch.Tensor
    image: torch.Tensor
    labels: torch.Tensor
    sonar: torch.Tensor | None = None

    @property
    def inputs(self) -> tuple[torch.Tensor, ...]:
        """The stimulus inputs in the task set's input order: (gps, image) or (gps, image, sonar)."""
        return (self.gps, self.image) if self.sonar is None else (self.gps, self.image, self.sonar)

    def to(self, device: torch.device | str) -> DroneBatch:
        """The same batch on ``device``."""
        sonar = None if self.sonar is None else self.sonar.to(device)
        return DroneBatch(self.gps.to(device), self.image.to(device), self.labels.to(device), sonar)

    def slice(self, start: int, stop: int) -> DroneBatch:
        """Examples ``start:stop`` (views, no copy)."""
        sonar = None if self.sonar is None else self.sonar[start:stop]
        return DroneBatch(self.gps[start:stop], self.image[start:stop], self.labels[start:stop], sonar)

    def __len__(self) -> int:
        return self.gps.shape[0]


@dataclass(frozen=True)
class DroneWorldConfig:
    """Settings of :class:`DroneWorld`; validated at construction.

    ``image_size`` H = W in pixels; ``grid`` cells per side (``L = grid²`` locations); ``n_types`` object
    types (≤ 4 sprites); ``sprite_size`` sprite canvas in pixels; ``jitter`` max position jitter in pixels,
    at most :attr:`max_jitter`; ``rotations`` evenly spaced sprite angles; ``scales`` sprite scale range
    (low, high), 3 levels; ``region_match`` P(image object = the GPS area's expected type); ``input_noise``
    std of Gaussian noise added to both inputs (Fig 5B; 0 = the deterministic world); ``gps_noise`` std of
    GPS jitter beyond the cell (in [-1, 1] units; makes T1/T2 noisy near cell borders); ``depth`` adds the
    depth output (3 classes: the sprite's scale level; see the module's docstring); ``sonar_size`` samples of
    the sonar input (0: no sonar; else at least 4).
    """

    image_size: int = 24
    grid: int = 3
    n_types: int = 4
    sprite_size: int = 9
    jitter: int = 1
    rotations: int = 8
    scales: tuple[float, float] = (0.75, 1.0)
    region_match: float = 0.75
    input_noise: float = 0.0
    gps_noise: float = 0.0
    depth: bool = False
    sonar_size: int = 0

    def __post_init__(self) -> None:
        for name in ("image_size", "sprite_size", "rotations"):
            check_positive_int(getattr(self, name), name)
        check_int(self.grid, "grid", 2)  # at least 4 locations
        if check_int(self.n_types, "n_types", 2) > len(OBJECT_TYPES):
            raise ValueError(f"n_types must be an integer in [2, {len(OBJECT_TYPES)}], got {self.n_types!r}")
        if self.image_size < 2 * self.grid:
            raise ValueError(f"image_size must be >= 2 * grid = {2 * self.grid} pixels, got {self.image_size!r}")
        if self.sprite_size < 3 or self.sprite_size > self.image_size:
            raise ValueError(f"sprite_size must lie in [3, image_size={self.image_size}], got {self.sprite_size!r}")
        check_int(self.jitter, "jitter", 0)
        if self.jitter > self.max_jitter:
            raise ValueError(
                f"jitter must lie in [0, {self.max_jitter}] pixels for image_size={self.image_size}, grid={self.grid} "
                f"(keeps every sprite's centre inside its own cell), got {self.jitter!r}"
            )
        try:
            low, high = (check_number(s, "scales", 0.1, 2.0) for s in self.scales)
        except (TypeError, ValueError):
            low, high = 1.0, 0.0  # refused just below
        if low > high:
            raise ValueError(f"scales must be (low, high) with 0.1 <= low <= high <= 2, got {self.scales!r}")
        object.__setattr__(self, "scales", (low, high))
        object.__setattr__(self, "region_match", check_number(self.region_match, "region_match", 0.0, 1.0))
        for name in ("input_noise", "gps_noise"):
            object.__setattr__(self, name, check_number(getattr(self, name), name, 0.0))
        object.__setattr__(self, "depth", check_bool(self.depth, "depth"))
        if 0 < check_int(self.sonar_size, "sonar_size", 0) < 4:
            raise ValueError(f"sonar_size must be 0 (no sonar input) or an integer >= 4, got {self.sonar_size!r}")

    @property
    def task_set(self) -> TaskSet:
        """The world's tasks: inputs gps, image (+ sonar) × outputs location, object (+ depth), input-major."""
        inputs = ("gps", "image") + (("sonar",) if self.sonar_size else ())
        outputs = ("location", "object") + (("depth",) if self.depth else ())
        return DRONE if (inputs, outputs) == (DRONE.inputs, DRONE.outputs) else TaskSet(inputs, outputs)

    @property
    def input_shapes(self) -> tuple[InputShape, ...]:
        """Each input's kind and size, in input order: ``("vector", d)`` or ``("image", H)`` (one channel, H × H)."""
        shapes = (InputShape("gps", "vector", 2), InputShape("image", "image", self.image_size))
        return shapes + ((InputShape("sonar", "vector", self.sonar_size),) if self.sonar_size else ())

    @property
    def n_classes(self) -> tuple[int, ...]:
        """Classes per output, in output order (each head adds a null class): L, K (, 3 depth levels)."""
        return (self.n_locations, self.n_types) + ((N_DEPTHS,) if self.depth else ())

    @property
    def max_jitter(self) -> int:
        """Largest ``jitter`` (pixels) that keeps every sprite's centre inside its own grid cell: ⌊(cell − 1) / 2⌋.

        A sprite is pasted centred on its cell (``cell = image_size / grid`` pixels), rounded to a pixel (±½),
        then shifted by up to ``jitter`` per axis; so its centre stays within ``jitter + ½ ≤ cell / 2`` of the
        cell's centre — inside the cell the image-location label names, hence inside the image and visible.
        Beyond it the label goes wrong and the object leaves the picture (default 24 px / 3 cells: bound 3,
        where the labelled cell is still the most salient one in 93 % of images; at jitter 50, 12 %).
        """
        return int((self.image_size / self.grid - 1) // 2)

    @property
    def n_locations(self) -> int:
        """L, the number of grid cells."""
        return self.grid * self.grid


def _sprite_templates(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Procedural sprites at ``size`` px: alpha and intensity maps, each ``(4, size, size)`` in [0, 1]."""
    coords = torch.linspace(-1.0, 1.0, size)
    v, u = torch.meshgrid(coords, coords, indexing="ij")  # v: rows (down), u: columns (right)

    def soft(inside: torch.Tensor) -> torch.Tensor:  # signed distance-ish → soft mask
        return torch.sigmoid(inside * size / 2.0)

    ellipse = lambda a, b, cu=0.0, cv=0.0: 1.0 - torch.sqrt(((u - cu) / a) ** 2 + ((v - cv) / b) ** 2)  # noqa: E731
    whale = torch.maximum(soft(ellipse(0.75, 0.42, cu=0.1)), soft(0.25 - torch.abs(v) - (u + 0.65).abs() * 1.5))
    dolphin_fin = soft(torch.minimum(-v - 0.1, 0.35 - torch.abs(u) - (-v) * 0.5)) * (v > -0.55)
    dolphin = torch.maximum(soft(ellipse(0.85, 0.16)), dolphin_fin)
    orca_body = soft(ellipse(0.7, 0.38))
    boat_hull = soft(torch.minimum(0.85 - torch.abs(u) - 0.5 * v.clamp(min=0), torch.minimum(v - 0.05, 0.4 - v)))
    boat_mast = soft(torch.minimum(0.08 - torch.abs(u), torch.minimum(v + 0.8, 0.05 - v)))
    boat_sail = soft(torch.minimum(u - 0.1, torch.minimum(-v - 0.05 - u * 0.8, v + 0.75)))
    boat = torch.maximum(boat_hull, torch.maximum(boat_mast, boat_sail))
    alpha = torch.stack([whale, dolphin, orca_body, boat])  # (4, S, S)
    intensity = torch.ones_like(alpha)
    intensity[0] = 0.45  # grey whale
    intensity[1] = 0.7  # light dolphin
    intensity[2] = torch.where(ellipse(0.25, 0.15, cu=-0.35, cv=-0.1) > 0, 0.05, 1.0)  # orca: dark eye patch
    intensity[3] = torch.where(v < 0.0, 0.95, 0.35)  # boat: bright sail, dark hull
    return alpha.clamp(0, 1), intensity


def sprite_bank(sprite_size: int, rotations: int, scales: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotated and scaled sprites: alpha and intensity, each ``(4, rotations, 3, S, S)``. Deterministic."""
    hi = 4 * sprite_size  # render at 4× and average-pool down (anti-aliasing)
    alpha, intensity = _sprite_templates(hi)
    maps = torch.stack([alpha, alpha * intensity], dim=1)  # (4, 2, hi, hi)
    angles = torch.arange(rotations, dtype=torch.float32) * (2 * math.pi / rotations)
    scale_levels = torch.linspace(scales[0], scales[1], 3)
    angle, scale = torch.meshgrid(angles, scale_levels, indexing="ij")  # (R, 3)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, torch.zeros_like(cos)], -1), torch.stack([sin, cos, torch.zeros_like(cos)], -1)], -2
    ).reshape(-1, 2, 3)  # (R*3, 2, 3)
    n_var = theta.shape[0]
    grid = F.affine_grid(theta, [n_var, 2, hi, hi], align_corners=False)  # (V, hi, hi, 2)
    src = maps.repeat_interleave(n_var, dim=0)  # (4*V, 2, hi, hi)
    warped = F.grid_sample(src, grid.repeat(4, 1, 1, 1), align_corners=False, padding_mode="zeros")
    small = F.avg_pool2d(warped, 4).reshape(4, rotations, 3, 2, sprite_size, sprite_size)
    a = small[:, :, :, 0]
    value = torch.where(a > 1e-6, small[:, :, :, 1] / a.clamp(min=1e-6), torch.zeros_like(a))
    return a.contiguous(), value.clamp(0, 1).contiguous()


class DroneWorld:
    """Generates drone-world batches; the region→type map is drawn once from the generator given."""

    def __init__(self, config: DroneWorldConfig, generator: torch.Generator) -> None:
        self.config = cfg = config
        self.n_locations = cfg.n_locations
        self.n_types = cfg.n_types
        # Region→type map: every type covers ⌊L/K⌋ or ⌈L/K⌉ cells, shuffled per world.
        base = torch.arange(self.n_locations) % cfg.n_types
        self.region_type = base[torch.randperm(self.n_locations, generator=generator)]  # (L,)
        alpha, value = sprite_bank(cfg.sprite_size, cfg.rotations, cfg.scales)
        self._alpha = alpha[: cfg.n_types].reshape(-1, cfg.sprite_size**2)  # (K*R*3, S*S)
        self._value = value[: cfg.n_types].reshape(-1, cfg.sprite_size**2)
        s = cfg.sprite_size
        self._steps = torch.arange(s)  # (S,) row/column offsets inside a sprite's box
        cell = cfg.image_size / cfg.grid
        # "Waves": a bank of pixel-noise textures drawn once per world; each example picks one (cheaper
        # than fresh Gaussian noise per pixel, and just as varied at the scale the CNN sees).
        self._waves = 0.04 * torch.randn(256, cfg.image_size, cfg.image_size, generator=generator)
        self._ramp = torch.linspace(-0.5, 0.5, cfg.image_size)
        self._cell_centre = (torch.arange(cfg.grid, dtype=torch.float32) + 0.5) * cell  # (grid,) pixels
        self.task_set = cfg.task_set
        self.n_classes = cfg.n_classes
        # Drawn after everything the 2 × 2 world draws, so the default world's stream is unchanged.
        self.region_depth: torch.Tensor | None = None
        if cfg.depth:
            base = torch.arange(self.n_locations) % N_DEPTHS
            self.region_depth = base[torch.randperm(self.n_locations, generator=generator)]  # (L,)
        if cfg.sonar_size:
            self._sonar_pos = torch.linspace(0.0, 1.0, cfg.sonar_size)  # (D,) sample positions along the trace

    def sample(self, n: int, generator: torch.Generator) -> DroneBatch:
        """``n`` fresh examples, all drawn from ``generator`` (vectorized; no per-example loop)."""
        cfg = self.config
        g, size, s = cfg.grid, cfg.image_size, cfg.sprite_size
        draw = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
        gps_cell = torch.randint(self.n_locations, (n,), generator=generator)
        img_cell = torch.randint(self.n_locations, (n,), generator=generator)
        match = draw(n) < cfg.region_match
        other = torch.randint(cfg.n_types, (n,), generator=generator)
        obj = torch.where(match, self.region_type[gps_cell], other)
        variant = torch.randint(cfg.rotations * 3, (n,), generator=generator)
        jitter = torch.randint(-cfg.jitter, cfg.jitter + 1, (n, 2), generator=generator)
        contrast = 0.85 + 0.3 * draw(n, 1)
        level = 0.25 * draw(n, 1)
        slope = (draw(n, 2) - 0.5) * 0.4  # (n, 2) brightness change across the image
        waves = torch.randint(self._waves.shape[0], (n,), generator=generator)
        pos_noise = torch.randn(n, 2, generator=generator)
        cell_pos = draw(n, 2)
        input_noise = (
            cfg.input_noise * torch.randn(n, size * size + 2, generator=generator) if cfg.input_noise > 0 else None
        )
        expected = self.region_type[gps_cell]
        extra_labels: dict[str, torch.Tensor] = {}
        if self.region_depth is not None:  # image depth = the sprite's scale level; the rotation keeps its draw
            area_depth = self.region_depth[gps_cell]
            depth_match = draw(n) < cfg.region_match
            img_depth = torch.where(depth_match, area_depth, torch.randint(N_DEPTHS, (n,), generator=generator))
            variant = (variant // 3) * 3 + img_depth
            extra_labels.update(gps_depth=area_depth, image_depth=img_depth)
        sonar = self._sonar(n, expected, gps_cell, generator, extra_labels) if cfg.sonar_size else None

        # GPS: a uniform point inside the GPS cell, scaled to [-1, 1]².
        col, row = gps_cell % g, gps_cell // g
        gps = (torch.stack([col, row], 1).float() + cell_pos) / g * 2.0 - 1.0 + cfg.gps_noise * pos_noise  # (n, 2)

        # Image: background + one sprite pasted at the image cell's centre (+ jitter), alpha-blended.
        ramp = self._ramp
        gradient = slope[:, 0, None] * ramp[None, :] + level  # (n, W), constant down the rows
        background = self._waves[waves] + gradient[:, None, :] + slope[:, 1, None, None] * ramp[None, :, None]
        icol, irow = img_cell % g, img_cell // g
        top = (self._cell_centre[irow] - s / 2).round().long() + jitter[:, 0]  # (n,) box corner, image pixels
        left = (self._cell_centre[icol] - s / 2).round().long() + jitter[:, 1]
        sprite = obj * (cfg.rotations * 3) + variant
        image = self._paste(background, top, left, self._alpha[sprite], self._value[sprite] * contrast)
        if input_noise is not None:
            image = image + input_noise[:, : size * size].view(n, size, size)
            gps = gps + input_noise[:, size * size :]
        if not extra_labels:
            labels = torch.stack([gps_cell, expected, img_cell, obj], dim=1)  # (n, 4): T1, T2, T3, T4
            return DroneBatch(gps.contiguous(), image.unsqueeze(1).contiguous(), labels)
        by_task = {"gps-location": gps_cell, "gps-object": expected, "image-location": img_cell, "image-object": obj}
        by_task.update({name.replace("_", "-"): value for name, value in extra_labels.items()})
        labels = torch.stack([by_task[t.name] for t in self.task_set.tasks], dim=1)  # (n, n_tasks), task order
        return DroneBatch(gps.contiguous(), image.unsqueeze(1).contiguous(), labels, sonar)

    def _paste(
        self, background: torch.Tensor, top: torch.Tensor, left: torch.Tensor, alpha: torch.Tensor, value: torch.Tensor
    ) -> torch.Tensor:
        """Alpha-blend one ``S × S`` sprite per image onto ``background`` ``(n, H, W)``: the images ``(n, H, W)``.

        ``top``/``left`` ``(n,)`` the box's corner in image pixels (the box may overhang the image: those pixels are
        dropped); ``alpha``/``value`` ``(n, S*S)``. Only the box's pixels are computed — outside it the blend
        ``lerp(background, 0, 0)`` is the background exactly, so this equals blending whole zero-padded canvases,
        bit for bit, at a fraction of the work (docs/findings/speed.md).
        """
        n, size = background.shape[0], self.config.image_size
        rows = top[:, None] + self._steps[None, :]  # (n, S) image rows of the box
        cols = left[:, None] + self._steps[None, :]  # (n, S) image columns of the box
        outside = ((rows < 0) | (rows >= size))[:, :, None] | ((cols < 0) | (cols >= size))[:, None, :]  # (n, S, S)
        # One flat buffer: the n images, then one scratch element that every overhanging pixel reads and writes.
        pixels = n * size * size
        buffer = torch.empty(pixels + 1, dtype=background.dtype)  # (n*H*W + 1,)
        buffer[:pixels] = background.reshape(-1)
        starts = rows * size + torch.arange(0, pixels, size * size)[:, None]  # (n, S) flat index of each box row
        index = (starts[:, :, None] + cols[:, None, :]).masked_fill_(outside, pixels).reshape(-1)  # (n*S*S,)
        blended = torch.lerp(buffer.index_select(0, index), value.reshape(-1), alpha.reshape(-1))  # (n*S*S,)
        buffer.index_copy_(0, index, blended)  # inside the image the indices are distinct
        return buffer[:pixels].view(n, size, size)

    def _sonar(
        self,
        n: int,
        expected: torch.Tensor,
        gps_cell: torch.Tensor,
        generator: torch.Generator,
        labels: dict[str, torch.Tensor],
    ) -> torch.Tensor:
        """``n`` sonar traces ``(n, D)`` of contacts with their own cell, type and depth; adds their labels."""
        cfg, L = self.config, self.n_locations
        cell = torch.randint(L, (n,), generator=generator)
        kind = torch.where(
            torch.rand(n, generator=generator) < cfg.region_match,
            expected,
            torch.randint(cfg.n_types, (n,), generator=generator),
        )
        area_depth = self.region_depth[gps_cell] if self.region_depth is not None else torch.zeros_like(cell)
        depth = torch.where(
            torch.rand(n, generator=generator) < cfg.region_match,
            area_depth,
            torch.randint(N_DEPTHS, (n,), generator=generator),
        )
        shift, phase = torch.rand(n, 2, generator=generator).unbind(1)
        noise = torch.randn(n, cfg.sonar_size + 1, generator=generator)
        pos = self._sonar_pos[None, :]  # (1, D) in [0, 1]
        centre = (cell.float() + 0.25 + 0.5 * shift)[:, None] / L  # (n, 1): within the contact's cell
        echo = torch.exp(-0.5 * ((pos - centre) * (2.5 * L)) ** 2)  # width 0.4 of a cell
        cycles = (kind + 1).float()[:, None]
        ringing = 0.4 * torch.sin(2 * math.pi * (cycles * pos + 0.15 * phase[:, None]))
        level = 0.3 * (depth.float()[:, None] - 1.0) + 0.05 * noise[:, :1]  # (n, 1)
        trace = echo + ringing + level + 0.05 * noise[:, 1:]  # (n, D)
        if cfg.input_noise > 0:
            trace = trace + cfg.input_noise * torch.randn(n, cfg.sonar_size, generator=generator)
        labels.update(sonar_location=cell, sonar_object=kind)
        if self.region_depth is not None:
            labels["sonar_depth"] = depth
        return trace.contiguous()


class DataStream:
    """A fixed-order stream of trial batches: generated ``chunk`` trials at a time from its own generator."""

    def __init__(self, world: DroneWorld, generator: torch.Generator, batch_size: int, chunk: int = 32) -> None:
        self.world = world
        self.generator = generator
        self.batch_size = batch_size
        self.chunk = chunk
        self._buffer: DroneBatch | None = None
        self._next = 0

    def next_batch(self) -> DroneBatch:
        """The next trial's batch of ``batch_size`` examples (same sequence for the same generator seed)."""
        if self._buffer is None or self._next >= self.chunk:
            self._buffer = self.world.sample(self.chunk * self.batch_size, self.generator)
            self._next = 0
        start = self._next * self.batch_size
        self._next += 1
        return self._buffer.slice(start, start + self.batch_size)
