"""``cnnlab datasets``: each dataset, whether it is present, and where it comes from."""

from __future__ import annotations

from .args import existing_dir


def register(subparsers) -> None:
    p = subparsers.add_parser("datasets", help="list the datasets, whether present and where from")
    p.add_argument("--root", type=existing_dir, default=None, help="also look in this folder (an explicit path)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..datasets import data_home, info, locate
    from ..datasets.registry import available

    rows = []
    for name in available():
        entry = info(name)
        if name == "imagefolder":
            present, where = "-", "your folder: cnnlab train MODEL --data imagefolder --data-root DIR"
        else:
            found = locate(name, args.root)
            present = "yes" if found is not None else "no"
            where = found.origin if found is not None else f"missing: cnnlab data install {name}"
        sizes = f"{entry.train_size}/{entry.test_size}" if entry.train_size else "-"
        rows.append((name, present, sizes, entry.description, where))
    head = ("NAME", "PRESENT", "TRAIN/TEST", "DESCRIPTION", "SOURCE")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    for r in [head] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4])
    print(f"\ncache: {data_home()} (set CNNLAB_DATA to move it)")
    return 0
