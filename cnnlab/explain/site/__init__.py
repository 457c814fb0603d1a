"""The explainer as a static site: ``cnnlab explain RUN --export DIR``.

The folder holds the live explainer's page (``static/``, copied unchanged), a small layer in
``static/site/`` that answers the page's API requests in the browser instead of a server, the
model as ONNX with every layer's activation as an output, the chosen test samples, the run's
training record, and onnxruntime-web's single-file WebAssembly build (copied from the npm
package that ``scripts/setup.sh`` installs). Any static web server can serve it.

Example:
    >>> ex = Explainer(model, meta, dataset, input_shape=(1, 28, 28))
    >>> export_site(ex, "site/", samples=64).bytes < 20e6
    True
"""

from ._export import SiteError, SiteSummary, export_site
from ._runtime import RUNTIME_FILES, RUNTIME_PACKAGE, RuntimeMissing, find_runtime, npm_prefix

__all__ = ["export_site", "SiteError", "SiteSummary", "find_runtime", "npm_prefix", "RuntimeMissing",
           "RUNTIME_FILES", "RUNTIME_PACKAGE"]
