"""Layer modules. Public names are re-exported by ``cnnlab.nn``."""
