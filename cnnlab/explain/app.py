"""The explainer's web app: FastAPI routes over :class:`~cnnlab.explain.service.Explainer`.

Routes (all JSON except the page and its static files):

==========================  =============================================================
``GET /``                   the page (``static/index.html``)
``GET /static/{file}``      the page's CSS and JS (Starlette's StaticFiles: no traversal)
``GET /api/model``          model name, input shape, classes, layers (name, kind, shapes)
``GET /api/samples``        test-set gallery: ``?offset=0&count=24`` (count ≤ 100)
``POST /api/infer``         ``{"sample": i}`` | ``{"pixels": [[...]]}`` | ``{"input_id": id}``,
                            optional ``"shift": [dx, dy]``: every activation + probabilities
``POST /api/upload``        multipart ``file`` (PNG/JPEG): as infer, plus the steps applied
``GET /api/detail``         ``?input_id&layer&channel&y&x``: conv/pool/ReLU/linear arithmetic
``GET /api/softmax``        ``?input_id``: logits, exponentials, normalisation
``GET /api/filters``        ``?layer`` (default the first conv): kernels
``GET /api/shift``          ``?input_id&max_shift``: probabilities against shifts
``GET /api/run``            training curves and confusion matrix of the run, if any
``GET /api/filters/history`` the first conv layer's kernels at every epoch, if the run kept them
``GET /api/backward``       ``?input_id&target``: cross-entropy against class ``target``, ∂L/∂input
                            and every layer's ∂L/∂output
``GET /api/backward/kernel`` ``?input_id&target&layer&channel[&y&x]``: ∂L/∂W of a conv kernel as
                            Σ over positions of input window × output gradient, and autograd's
``GET /api/backward/step``  ``?input_id&target&layer&channel&lr``: one SGD step on a copy of the
                            model (the served one never changes): w, ∂L/∂w, new w, loss before/after
``POST /api/attribution``   an input as for infer, ``"method"`` (saliency, input-x-gradient,
                            integrated-gradients, smoothgrad, grad-cam, occlusion), optional
                            ``"target"``, ``"layer"`` (grad-cam), ``"window"``/``"stride"``
                            (occlusion): the method's map (``cnnlab.explain.why``)
``GET /api/errors``         the test set's confusion matrix, each cell's image indices,
                            per-class precision/recall/F1, most-confused pairs
``GET /api/errors/cell``    ``?true&predicted&offset=0&count=48``: a cell's images, highest
                            loss first, with thumbnails and probabilities
==========================  =============================================================

Every refusal is a 4xx with ``{"error": "..."}``: a JSON body over 1 MiB is a 413, one nested
deeper than 8 levels, with ``NaN``/``Infinity``, or not JSON at all is a 400, before any parsing
that could recurse. Only a bug in the explainer is a 500: it is logged with its traceback (logger
``cnnlab.explain``) and answered with a short JSON message, never the stack trace. The checkpoint
is fixed when the app is created: no request can name a file to load.

Requests may carry ``X-Client-Id`` (1–64 letters, digits, ``-``, ``_``; the page sends one per
tab): the server keeps each client's recent traces apart (see
:class:`~cnnlab.explain.service.TraceStore`); without it a client is known by its address.
"""

# No `from __future__ import annotations`: FastAPI reads the `Request` annotations at runtime.

import json
import logging
import re
from pathlib import Path

import numpy as np

from .errors import ExplainError
from .images import MAX_UPLOAD_BYTES
from .mistakes import MAX_ERROR_IMAGES
from .service import ANONYMOUS, Explainer

STATIC_DIR = Path(__file__).parent / "static"
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 8     # the deepest valid body, {"pixels": [C][H][W]}, has 4 levels
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
log = logging.getLogger("cnnlab.explain")


async def _read_body(request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ExplainError("invalid Content-Length header")
        if int(declared) > limit:
            raise ExplainError(f"the request body has {int(declared):,} bytes; the limit is {limit:,}", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ExplainError(f"the request body is larger than the limit of {limit:,} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the JSON text ``raw``, without parsing it.

    Strings are blanked first (a bracket inside one does not count); then the depth is the
    largest running sum of openings minus closings. Linear in the length, no recursion.
    """
    b = np.frombuffer(_JSON_STRING.sub(b'""', raw), np.uint8)
    step = (b == ord("[")).astype(np.int32) + (b == ord("{")) - (b == ord("]")) - (b == ord("}"))
    return int(np.cumsum(step).max(initial=0))


def _refuse_constant(name):
    raise ExplainError(f"the request body contains `{name}`, which is not JSON; send finite numbers")


def parse_json_body(raw: bytes):
    """A request body as JSON, with its depth bounded; every failure is a 400 that says why."""
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise ExplainError(f"the JSON body is nested {depth:,} levels deep; the limit is {MAX_JSON_DEPTH}")
    try:
        return json.loads(raw.decode("utf-8") if raw else "null", parse_constant=_refuse_constant)
    except ExplainError:          # NaN or Infinity, from _refuse_constant
        raise
    except UnicodeDecodeError:
        raise ExplainError("the request body is not valid JSON: it is not UTF-8 text") from None
    except (ValueError, RecursionError) as e:
        raise ExplainError(f"the request body is not valid JSON: {e}") from None


def client_key(request) -> str:
    """Who is asking: the page's ``X-Client-Id``, else the caller's address."""
    cid = request.headers.get("x-client-id")
    if cid is not None:
        if not _CLIENT_ID.fullmatch(cid):
            raise ExplainError(f"the X-Client-Id header must be 1-64 letters, digits, '-' or '_', got {cid[:40]!r}")
        return "id:" + cid
    return f"address:{request.client.host}" if request.client else ANONYMOUS


def _static_files(directory):
    """Starlette's StaticFiles with the page's MIME types fixed rather than taken from the system.

    A browser runs an ES module only if it comes with a JavaScript MIME type, and Python's
    ``mimetypes`` also reads the machine's tables (on Windows the registry may say ``text/plain``
    for ``.js``).
    """
    from fastapi.staticfiles import StaticFiles

    class PageFiles(StaticFiles):
        def file_response(self, full_path, stat_result, scope, status_code=200):
            response = super().file_response(full_path, stat_result, scope, status_code)
            media = MEDIA_TYPES.get(Path(full_path).suffix)
            if media and "content-type" in response.headers:
                response.headers["content-type"] = f"{media}; charset=utf-8"
            return response

    return PageFiles(directory=directory)


def create_app(model, meta=None, dataset=None, *, input_shape=None, classes=None, normalize=None,
               run=None, max_upload_bytes: int = MAX_UPLOAD_BYTES, errors_limit: int = MAX_ERROR_IMAGES,
               filter_history=None):
    """Build the FastAPI app for one model.

    Args:
        model: a cnnlab ``nn.Module`` (put in eval mode).
        meta: checkpoint metadata (``model``, ``dataset``, ``metrics``...), may be None.
        dataset: optional test set with ``.data``, ``.targets``, ``.classes`` for the gallery.
        input_shape, classes, normalize, run: see :class:`~cnnlab.explain.service.Explainer`.
        max_upload_bytes: uploads larger than this are refused with 413 before decoding.
        filter_history: the run's per-epoch first-layer snapshots, if any (see Explainer).
        errors_limit: the Errors view analyses at most this many test images (the first ones).

    Example:
        >>> import uvicorn
        >>> uvicorn.run(create_app(model, meta, dataset), host="127.0.0.1", port=8000)
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    ex = Explainer(model, meta, dataset, input_shape=input_shape, classes=classes,
                   normalize=normalize, run=run, errors_limit=errors_limit, filter_history=filter_history)
    app = FastAPI(title="cnnlab explain", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.explainer = ex

    @app.exception_handler(ExplainError)
    async def _explain_error(request, exc: ExplainError):
        return JSONResponse({"error": str(exc)}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request, exc):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request, exc):
        msgs = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(msgs) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request, exc):  # a bug: log it in full, answer briefly, never send the traceback
        log.error("explainer bug on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"error": f"internal error ({type(exc).__name__}): a bug in the explainer, "
                                      "logged by the server; the request itself may be fine"}, status_code=500)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", _static_files(STATIC_DIR), name="static")

    def q(request, name, default=None, required=False):
        value = request.query_params.get(name, default)
        if required and value is None:
            raise ExplainError(f"missing query parameter `{name}`")
        return value

    @app.get("/api/model")
    def model_info():
        return ex.model_info()

    @app.get("/api/samples")
    def samples(request: Request):
        return ex.samples(q(request, "offset", 0), q(request, "count", 24))

    @app.post("/api/infer")
    async def infer(request: Request):
        client = client_key(request)
        body = parse_json_body(await _read_body(request, MAX_JSON_BYTES))
        return await run_in_threadpool(ex.infer, body, client)

    @app.post("/api/upload")
    async def upload(request: Request):
        client = client_key(request)
        raw = await _read_body(request, max_upload_bytes + 64 * 1024)
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            request._body = raw  # Starlette's stream() replays a cached body; the limit was checked above
            try:
                form = await request.form(max_files=1, max_fields=4, max_part_size=max_upload_bytes + 1)
            except Exception:
                raise ExplainError("malformed multipart upload; send one file in the field `file`") from None
            f = form.get("file")
            if f is None or not hasattr(f, "read"):
                raise ExplainError("the multipart upload has no file in the field `file`")
            data = await f.read()
        else:
            data = raw  # a raw image body (Content-Type: image/png) works too
        return await run_in_threadpool(ex.upload, data, max_upload_bytes, client)

    @app.get("/api/detail")
    def detail(request: Request):
        return ex.detail(q(request, "input_id", required=True), q(request, "layer", required=True),
                         q(request, "channel", 0), q(request, "y", 0), q(request, "x", 0), client_key(request))

    @app.get("/api/softmax")
    def softmax(request: Request):
        return ex.softmax(q(request, "input_id", required=True), client_key(request))

    @app.get("/api/filters")
    def filters(request: Request):
        return ex.filters(q(request, "layer"))

    @app.get("/api/shift")
    def shift(request: Request):
        return ex.shift_sweep(q(request, "input_id", required=True), q(request, "max_shift", 6), client_key(request))

    @app.get("/api/run")
    def run_info():
        return ex.run()

    @app.get("/api/filters/history")
    def filters_history():
        return ex.filters_over_training()

    @app.get("/api/backward")
    def backward(request: Request):
        return ex.backward(q(request, "input_id", required=True), q(request, "target", required=True),
                           client_key(request))

    @app.get("/api/backward/kernel")
    def backward_kernel(request: Request):
        return ex.kernel_gradient(q(request, "input_id", required=True), q(request, "target", required=True),
                                  q(request, "layer", required=True), q(request, "channel", 0),
                                  q(request, "y"), q(request, "x"), client_key(request))

    @app.get("/api/backward/step")
    def backward_step(request: Request):
        return ex.sgd_step(q(request, "input_id", required=True), q(request, "target", required=True),
                           q(request, "layer", required=True), q(request, "channel", 0),
                           q(request, "lr", required=True), client_key(request))
    @app.post("/api/attribution")
    async def attribution(request: Request):
        client = client_key(request)
        body = parse_json_body(await _read_body(request, MAX_JSON_BYTES))
        return await run_in_threadpool(ex.attribution, body, client)

    @app.get("/api/errors")
    async def errors():
        return await run_in_threadpool(ex.errors)   # the first call runs the whole test set

    @app.get("/api/errors/cell")
    async def error_cell(request: Request):
        return await run_in_threadpool(ex.error_cell, q(request, "true", required=True),
                                       q(request, "predicted", required=True), q(request, "offset", 0),
                                       q(request, "count", 48))

    return app

