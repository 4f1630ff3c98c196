"""Large data sets as versioned, resumable shards: safetensors files and a manifest.

A data set too large for memory (the paper-scale CRNN data, 97 GB) is written shard by shard
into one folder: ``shard-00000.safetensors``, ... and ``manifest.json``, which records the
generating configuration, the generator version, and for each finished shard its file,
size, SHA-256 and number of rows. A shard is written to a temporary file and renamed into
place, then entered in the manifest (also replaced atomically), so an interrupted generation
leaves only finished shards behind and :func:`write` skips them when it runs again.

:class:`ShardedDataset` reads rows, or slices of rows, straight from the memory-mapped files
(``safetensors.safe_open``): training streams windows without ever holding a whole shard,
let alone the data set.

Why safetensors: a documented, memory-mappable format that loads without executing code and
reads a slice of a tensor without reading the rest of the file.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from physdl.io import atomic_path, remove_temporaries
from physdl.ops.checks import check_int
from physdl.progress import progress as progress_bar

__all__ = ["FORMAT", "MANIFEST", "ShardedDataset", "write"]

#: The manifest's file name in a shard folder, and the format it declares.
MANIFEST = "manifest.json"
FORMAT = "physdl-shards-1"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _shard_name(k: int) -> str:
    return f"shard-{k:05d}.safetensors"


def _read_manifest(folder: Path) -> dict | None:
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a readable shard manifest: {err}") from err
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a physdl shard manifest (format {FORMAT})")
    return manifest


def _write_manifest(folder: Path, manifest: dict) -> None:
    with atomic_path(folder / MANIFEST) as tmp:
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))


def write(folder: str | os.PathLike, *, config: Mapping, version: str, count: int,
          make: Callable[[int], Mapping[str, torch.Tensor]], progress: bool | None = None,
          description: str = "shards") -> ShardedDataset:
    """Write (or finish) the data set ``make(0), ..., make(count - 1)`` as shards in ``folder``.

    Args:
        folder: where the shards and the manifest go (created).
        config: the generating configuration (JSON values); with ``version`` it identifies
            the data set, so a folder holding another one is refused.
        version: the generator's version (a new version is another data set).
        count: number of shards.
        make: ``make(k)`` returns shard ``k``: named tensors sharing their first axis (rows).
            It must depend on ``k`` alone, so that a resumed generation makes the same data.
        progress: show a progress bar over the shards still to write.

    Returns:
        The finished :class:`ShardedDataset`. Shards already in the manifest with the recorded
        size are skipped (not recomputed), so a killed generation resumes where it stopped.

    Raises:
        ValueError: ``folder`` holds another data set (other config, version or count), or a
            shard whose tensors do not share their number of rows.
    """
    count = check_int(count, "count", 1)
    if not isinstance(version, str) or not version:
        raise ValueError(f"version must be a non-empty string, got {version!r}")
    if not callable(make):
        raise TypeError(f"make must be callable, got {type(make).__name__}")
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a str or os.PathLike, got {type(folder).__name__}")
    try:
        config = json.loads(json.dumps(dict(config), allow_nan=False))
    except (TypeError, ValueError) as err:
        raise ValueError(f"config must be a mapping of finite JSON values: {err}") from err
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    identity = {"format": FORMAT, "config": config, "version": version, "count": count}
    manifest = _read_manifest(folder)
    if manifest is None:
        manifest = {**identity, "shards": {}}
    elif {k: manifest.get(k) for k in identity} != identity:
        raise ValueError(f"{folder} holds another data set (version {manifest.get('version')!r}, "
                         f"{manifest.get('count')} shards, config {manifest.get('config')}); "
                         "use another folder or remove it")
    for k in range(count):
        remove_temporaries(folder / _shard_name(k), older_than=3600.0)
    todo = [k for k in range(count) if not _finished(folder, manifest, k)]
    for k in progress_bar(todo, desc=description, enabled=progress):
        made = make(k)
        if not isinstance(made, Mapping) or not made or not all(
                isinstance(n, str) and isinstance(t, torch.Tensor) for n, t in made.items()):
            raise TypeError(f"make({k}) must return a non-empty mapping of names to tensors, got {type(made).__name__}")
        tensors = {name: t.detach().contiguous().cpu() for name, t in made.items()}
        del made
        rows = {t.shape[0] if t.dim() else None for t in tensors.values()}
        if len(rows) != 1 or None in rows:
            raise ValueError(f"shard {k}: every tensor needs the same first (row) axis, got "
                             f"{ {n: tuple(t.shape) for n, t in tensors.items()} }")
        path = folder / _shard_name(k)
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp))
        del tensors
        manifest["shards"][str(k)] = {"file": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path),
                                      "rows": rows.pop()}
        _write_manifest(folder, manifest)
    if not todo and not (folder / MANIFEST).exists():
        _write_manifest(folder, manifest)
    return ShardedDataset(folder)


def _finished(folder: Path, manifest: dict, k: int) -> bool:
    entry = manifest["shards"].get(str(k))
    path = folder / _shard_name(k)
    return entry is not None and path.exists() and path.stat().st_size == entry["bytes"]


class ShardedDataset:
    """A finished sharded data set, read lazily from its memory-mapped shards.

    ``dataset[name, i]`` is row ``i`` of tensor ``name``; ``dataset[name, i, s]`` with a
    further index ``s`` (integers and slices) reads only that part of the row.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"folder must be a str or os.PathLike, got {type(folder).__name__}")
        self.folder = Path(folder)
        manifest = _read_manifest(self.folder)
        if manifest is None:
            raise ValueError(f"{self.folder} holds no shard manifest ({MANIFEST}); write the data set first")
        missing = [k for k in range(manifest["count"]) if not _finished(self.folder, manifest, k)]
        if missing:
            raise ValueError(f"{self.folder} is unfinished: shards {missing[:5]}{'...' if len(missing) > 5 else ''} "
                             f"of {manifest['count']} are missing; run the generation again to finish it")
        self.manifest = manifest
        self.rows_per_shard = [manifest["shards"][str(k)]["rows"] for k in range(manifest["count"])]
        self._starts = [sum(self.rows_per_shard[:k]) for k in range(len(self.rows_per_shard))]
        self._open: dict[int, object] = {}

    @property
    def config(self) -> dict:
        return self.manifest["config"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def __len__(self) -> int:
        return sum(self.rows_per_shard)

    def _handle(self, k: int):
        if k not in self._open:
            self._open[k] = safe_open(str(self.folder / _shard_name(k)), framework="pt")
        return self._open[k]

    def locate(self, i: int) -> tuple[int, int]:
        """``(shard, row in the shard)`` of row ``i``."""
        i = check_int(i, "i", -len(self), len(self) - 1) % len(self)
        k = bisect.bisect_right(self._starts, i) - 1
        return k, i - self._starts[k]

    def shape(self, name: str) -> tuple[int, ...]:
        """Shape of tensor ``name`` over the whole data set (rows first)."""
        return (len(self), *self._handle(0).get_slice(name).get_shape()[1:])

    def __getitem__(self, key: tuple) -> torch.Tensor:
        if not isinstance(key, tuple) or len(key) < 2 or not isinstance(key[0], str):
            raise TypeError("index as dataset[name, row] or dataset[name, row, *more]")
        name, row, *more = key
        k, r = self.locate(row)
        return self._handle(k).get_slice(name)[(r, *more)]

    def shard(self, k: int) -> dict[str, torch.Tensor]:
        """The whole of shard ``k`` as tensors."""
        k = check_int(k, "k", 0, len(self.rows_per_shard) - 1)
        handle = self._handle(k)
        return {name: handle.get_tensor(name) for name in handle.keys()}

    def verify(self) -> None:
        """Check every shard against the SHA-256 in the manifest; ``ValueError`` naming a damaged one."""
        for k in range(len(self.rows_per_shard)):
            entry = self.manifest["shards"][str(k)]
            if _sha256(self.folder / entry["file"]) != entry["sha256"]:
                raise ValueError(f"{self.folder / entry['file']} does not match its checksum: the shard is damaged; "
                                 "delete it and run the generation again")
