"""Progress bars for training and evaluation (tqdm), quiet where nobody is watching.

A bar is shown only when stderr is a terminal and progress was not switched off
(``--no-progress``, ``progress=False`` or ``CNNLAB_NO_PROGRESS=1``), so CI logs and pipes
never receive thousands of carriage-return updates.
"""

from __future__ import annotations

import os
import sys
import time


def progress_enabled(requested: bool | None = None) -> bool:
    """Whether to draw bars: ``requested`` wins when given, else only on a TTY."""
    if requested is not None:
        return bool(requested)
    if os.environ.get("CNNLAB_NO_PROGRESS", "") not in ("", "0"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A bar over ``total`` batches with live loss, accuracy and images per second.

    Args:
        total: number of batches (``None`` if unknown).
        desc: the bar's label, e.g. ``"epoch 1/3"``.
        enabled: draw the bar; when False every method is a cheap no-op.

    Example:
        >>> with Progress(100, "epoch 1", enabled=False) as bar:
        ...     bar.update(images=64, loss=0.5, accuracy=0.8)
    """

    def __init__(self, total: int | None, desc: str, enabled: bool = False):
        self.enabled = enabled
        self.images = 0
        self.start = time.perf_counter()
        self._bar = None
        self._last_postfix = 0.0
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="batch", leave=False, dynamic_ncols=True,
                             file=sys.stderr, mininterval=0.25)

    @property
    def images_per_second(self) -> float:
        elapsed = time.perf_counter() - self.start
        return self.images / elapsed if elapsed > 0 else 0.0

    def update(self, images: int, loss: float | None = None, accuracy: float | None = None) -> None:
        """Advance one batch of ``images`` samples; ``loss``/``accuracy`` are running means."""
        self.images += images
        if self._bar is None:
            return
        now = time.perf_counter()
        # Formatting the postfix costs more than a small step; refresh it a few times a second.
        if now - self._last_postfix > 0.25:
            post = {}
            if loss is not None:
                post["loss"] = f"{loss:.4f}"
            if accuracy is not None:
                post["acc"] = f"{accuracy:.3f}"
            post["img/s"] = f"{self.images_per_second:,.0f}"
            self._bar.set_postfix(post, refresh=False)
            self._last_postfix = now
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
