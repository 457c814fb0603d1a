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
==========================  =============================================================

Every refusal is a 4xx with ``{"error": "..."}``; an unexpected failure is a 500 with a short
JSON message and never a stack trace. The checkpoint is fixed when the app is created: no
request can name a file to load.
"""

# No `from __future__ import annotations`: FastAPI reads the `Request` annotations at runtime.

import json
from pathlib import Path

from .errors import ExplainError
from .images import MAX_UPLOAD_BYTES
from .service import Explainer

STATIC_DIR = Path(__file__).parent / "static"
MAX_JSON_BYTES = 1024 * 1024


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


def create_app(model, meta=None, dataset=None, *, input_shape=None, classes=None, normalize=None,
               run=None, max_upload_bytes: int = MAX_UPLOAD_BYTES):
    """Build the FastAPI app for one model.

    Args:
        model: a cnnlab ``nn.Module`` (put in eval mode).
        meta: checkpoint metadata (``model``, ``dataset``, ``metrics``...), may be None.
        dataset: optional test set with ``.data``, ``.targets``, ``.classes`` for the gallery.
        input_shape, classes, normalize, run: see :class:`~cnnlab.explain.service.Explainer`.
        max_upload_bytes: uploads larger than this are refused with 413 before decoding.

    Example:
        >>> import uvicorn
        >>> uvicorn.run(create_app(model, meta, dataset), host="127.0.0.1", port=8000)
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException as StarletteHTTPException

    ex = Explainer(model, meta, dataset, input_shape=input_shape, classes=classes,
                   normalize=normalize, run=run)
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
    async def _unexpected(request, exc):  # a bug: say so briefly, never send the traceback
        return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

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
        raw = await _read_body(request, MAX_JSON_BYTES)
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ExplainError("the request body is not valid JSON") from None
        return await run_in_threadpool(ex.infer, body)

    @app.post("/api/upload")
    async def upload(request: Request):
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
        return await run_in_threadpool(ex.upload, data, max_upload_bytes)

    @app.get("/api/detail")
    def detail(request: Request):
        return ex.detail(q(request, "input_id", required=True), q(request, "layer", required=True),
                         q(request, "channel", 0), q(request, "y", 0), q(request, "x", 0))

    @app.get("/api/softmax")
    def softmax(request: Request):
        return ex.softmax(q(request, "input_id", required=True))

    @app.get("/api/filters")
    def filters(request: Request):
        return ex.filters(q(request, "layer"))

    @app.get("/api/shift")
    def shift(request: Request):
        return ex.shift_sweep(q(request, "input_id", required=True), q(request, "max_shift", 6))

    @app.get("/api/run")
    def run_info():
        return ex.run()

    return app

