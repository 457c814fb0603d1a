"""``cnnlab explain``: an interactive CNN explainer in the browser for any cnnlab model.

The package splits into the arithmetic (``inference`` records every layer's input and output;
``details`` recomputes one value of one layer from them), the answers (``service``; the Why and
Errors tabs' in ``why`` and ``mistakes``, over ``cnnlab.attribution`` and ``cnnlab.errors``),
upload handling (``images``) and the HTTP layer (``app``). The page in ``static/`` is plain
HTML/CSS/JS with no build step; it draws with canvas and SVG.

Example:
    >>> from cnnlab.explain import create_app
    >>> app = create_app(model, {"model": "mnist-cnn"}, dataset)   # serve with uvicorn
"""

from .app import create_app
from .errors import ExplainError
from .inference import Engine
from .service import Explainer

__all__ = ["Engine", "ExplainError", "Explainer", "create_app"]
